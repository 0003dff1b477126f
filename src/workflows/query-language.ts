/**
 * A subset of Roboflow's Workflows query language: operations on values (`SequenceLength`, property extraction,
 * `DetectionsFilter`, string and number helpers) and statements (`StatementGroup` with `and`/`or`, binary
 * comparators, unary operators) over static and dynamic operands.
 */
import * as v from 'valibot';
import { anchor, detectionsLength, isDetections, selectDetections, type Detections, type Position } from './detections.ts';
import { pointInPolygon } from './polygon-zone.ts';

/** Properties of a detection that operations can read. */
export const DETECTION_PROPERTIES = [
  'confidence',
  'class_name',
  'class_id',
  'x_min',
  'y_min',
  'x_max',
  'y_max',
  'size',
  'width',
  'height',
  'center',
  'top_left',
  'top_right',
  'bottom_left',
  'bottom_right',
  'left_center',
  'right_center',
  'top_center',
  'bottom_center',
  'tracker_id',
  'time_in_zone',
  'detection_id',
] as const;

/** A detection property name. */
export type DetectionProperty = (typeof DETECTION_PROPERTIES)[number];

/** The binary comparators. */
export const BINARY_COMPARATORS = [
  '==',
  '!=',
  '(Number) ==',
  '(Number) !=',
  '(Number) >',
  '(Number) >=',
  '(Number) <',
  '(Number) <=',
  '(Number) in range',
  '(String) startsWith',
  '(String) endsWith',
  '(String) contains',
  'in (Sequence)',
  'all in (Sequence)',
  'any in (Sequence)',
  '(Detection) in zone',
] as const;

/** The unary operators. */
export const UNARY_OPERATORS = ['Exists', 'DoesNotExist', '(Boolean) is True', '(Boolean) is False', '(Sequence) is empty', '(Sequence) is not empty'] as const;

/** One operation on a value. */
export type Operation =
  | { type: 'SequenceLength' }
  | { type: 'DetectionsPropertyExtract'; property_name: DetectionProperty }
  | { type: 'ExtractDetectionProperty'; property_name: DetectionProperty }
  | { type: 'DetectionsFilter'; filter_operation: StatementGroup }
  | { type: 'ToString' }
  | { type: 'StringToUpperCase' }
  | { type: 'StringToLowerCase' }
  | { type: 'NumberRound'; decimal_digits?: number }
  | { type: 'LookupTable'; lookup_table: Record<string, unknown> }
  | { type: 'SequenceApply'; operations: Operation[] };

/** A value: static, or named (`_` is the detection being filtered; others come from `operations_parameters`). */
export type Operand = { type: 'StaticOperand'; value: unknown; operations?: Operation[] } | { type: 'DynamicOperand'; operand_name: string; operations?: Operation[] };

/** A comparison of two operands. */
export interface BinaryStatement {
  type: 'BinaryStatement';
  left_operand: Operand;
  comparator: { type: (typeof BINARY_COMPARATORS)[number] };
  right_operand: Operand;
  negate?: boolean;
}

/** A test on one operand. */
export interface UnaryStatement {
  type: 'UnaryStatement';
  operand: Operand;
  operator: { type: (typeof UNARY_OPERATORS)[number] };
  negate?: boolean;
}

/** Statements joined with `and` or `or`. */
export interface StatementGroup {
  type: 'StatementGroup';
  operator?: 'and' | 'or';
  statements: (BinaryStatement | UnaryStatement | StatementGroup)[];
}

const OperationSchema: v.GenericSchema<Operation> = v.lazy(() =>
  v.variant('type', [
    v.object({ type: v.literal('SequenceLength') }),
    v.object({ type: v.literal('DetectionsPropertyExtract'), property_name: v.picklist(DETECTION_PROPERTIES) }),
    v.object({ type: v.literal('ExtractDetectionProperty'), property_name: v.picklist(DETECTION_PROPERTIES) }),
    v.object({ type: v.literal('DetectionsFilter'), filter_operation: StatementGroupSchema }),
    v.object({ type: v.literal('ToString') }),
    v.object({ type: v.literal('StringToUpperCase') }),
    v.object({ type: v.literal('StringToLowerCase') }),
    v.object({ type: v.literal('NumberRound'), decimal_digits: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(15))) }),
    v.object({ type: v.literal('SequenceApply'), operations: v.array(OperationSchema) }),
    v.object({ type: v.literal('LookupTable'), lookup_table: v.record(v.string(), v.unknown()) }),
  ]),
) as v.GenericSchema<Operation>;

const OperandSchema: v.GenericSchema<Operand> = v.variant('type', [
  v.object({ type: v.literal('StaticOperand'), value: v.unknown(), operations: v.optional(v.array(OperationSchema)) }),
  v.object({ type: v.literal('DynamicOperand'), operand_name: v.string(), operations: v.optional(v.array(OperationSchema)) }),
]) as v.GenericSchema<Operand>;

const StatementSchema: v.GenericSchema<BinaryStatement | UnaryStatement | StatementGroup> = v.lazy(() =>
  v.union([
    v.object({
      type: v.literal('BinaryStatement'),
      left_operand: OperandSchema,
      comparator: v.object({ type: v.picklist(BINARY_COMPARATORS) }),
      right_operand: OperandSchema,
      negate: v.optional(v.boolean()),
    }),
    v.object({ type: v.literal('UnaryStatement'), operand: OperandSchema, operator: v.object({ type: v.picklist(UNARY_OPERATORS) }), negate: v.optional(v.boolean()) }),
    StatementGroupSchema,
  ]),
) as v.GenericSchema<BinaryStatement | UnaryStatement | StatementGroup>;

/** Schema of a `StatementGroup`. */
export const StatementGroupSchema: v.GenericSchema<StatementGroup> = v.lazy(() =>
  v.object({ type: v.literal('StatementGroup'), operator: v.optional(v.picklist(['and', 'or'])), statements: v.pipe(v.array(StatementSchema), v.minLength(1)) }),
) as v.GenericSchema<StatementGroup>;

/** Schema of a list of operations. */
export const OperationsSchema = v.array(OperationSchema);

/** One detection inside a set (the `_` operand while filtering). */
interface SingleDetection {
  readonly single: Detections;
  readonly index: number;
}

const isSingle = (value: unknown): value is SingleDetection => typeof value === 'object' && value !== null && 'single' in value && 'index' in value;

const ANCHOR_OF: Partial<Record<DetectionProperty, Position>> = {
  center: 'CENTER',
  top_left: 'TOP_LEFT',
  top_right: 'TOP_RIGHT',
  bottom_left: 'BOTTOM_LEFT',
  bottom_right: 'BOTTOM_RIGHT',
  left_center: 'CENTER_LEFT',
  right_center: 'CENTER_RIGHT',
  top_center: 'TOP_CENTER',
  bottom_center: 'BOTTOM_CENTER',
};

/** Property `name` of detection `i`. */
export function detectionProperty(d: Detections, i: number, name: DetectionProperty): unknown {
  const [x0, y0, x1, y1] = [d.xyxy[i * 4]!, d.xyxy[i * 4 + 1]!, d.xyxy[i * 4 + 2]!, d.xyxy[i * 4 + 3]!];
  switch (name) {
    case 'confidence':
      return d.confidence[i];
    case 'class_name':
      return d.data.class_name[i];
    case 'class_id':
      return d.classId[i];
    case 'detection_id':
      return d.data.detection_id[i];
    case 'x_min':
      return x0;
    case 'y_min':
      return y0;
    case 'x_max':
      return x1;
    case 'y_max':
      return y1;
    case 'width':
      return x1 - x0;
    case 'height':
      return y1 - y0;
    case 'size':
      return (x1 - x0) * (y1 - y0);
    case 'tracker_id':
      return d.trackerId?.[i];
    case 'time_in_zone':
      return d.data.time_in_zone?.[i];
    default:
      return anchor(d, i, ANCHOR_OF[name] ?? 'CENTER');
  }
}

/** Named operands: `operations_parameters` values, plus `_` while filtering. */
export type OperandValues = Readonly<Record<string, unknown>>;

/** Applies `operations` to `value` in order. Throws TypeError when an operation does not fit the value. */
export function applyOperations(value: unknown, operations: readonly Operation[], named: OperandValues = {}): unknown {
  let current = value;
  for (const op of operations) current = applyOperation(current, op, named);
  return current;
}

function applyOperation(value: unknown, op: Operation, named: OperandValues): unknown {
  switch (op.type) {
    case 'SequenceLength':
      if (isDetections(value)) return detectionsLength(value);
      if (Array.isArray(value) || typeof value === 'string') return value.length;
      if (typeof value === 'object' && value !== null) return Object.keys(value).length;
      throw new TypeError(`SequenceLength needs a sequence, got ${typeof value}`);
    case 'DetectionsPropertyExtract':
      if (!isDetections(value)) throw new TypeError(`DetectionsPropertyExtract needs detections, got ${typeof value}`);
      return Array.from({ length: detectionsLength(value) }, (_, i) => detectionProperty(value, i, op.property_name));
    case 'ExtractDetectionProperty':
      if (!isSingle(value)) throw new TypeError('ExtractDetectionProperty needs one detection (the `_` operand of a filter)');
      return detectionProperty(value.single, value.index, op.property_name);
    case 'DetectionsFilter': {
      if (!isDetections(value)) throw new TypeError(`DetectionsFilter needs detections, got ${typeof value}`);
      const keep: number[] = [];
      for (let i = 0; i < detectionsLength(value); i++) if (evaluateStatement(op.filter_operation, { ...named, _: { single: value, index: i } })) keep.push(i);
      return selectDetections(value, keep);
    }
    case 'ToString':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'StringToUpperCase':
      if (typeof value !== 'string') throw new TypeError(`StringToUpperCase needs a string, got ${typeof value}`);
      return value.toUpperCase();
    case 'StringToLowerCase':
      if (typeof value !== 'string') throw new TypeError(`StringToLowerCase needs a string, got ${typeof value}`);
      return value.toLowerCase();
    case 'NumberRound': {
      if (typeof value !== 'number') throw new TypeError(`NumberRound needs a number, got ${typeof value}`);
      const f = 10 ** (op.decimal_digits ?? 0);
      return Math.round(value * f) / f;
    }
    case 'LookupTable': {
      // JSON keys are strings: a number or boolean is looked up by its text.
      const key = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      if (key === undefined || !Object.prototype.hasOwnProperty.call(op.lookup_table, key)) {
        throw new TypeError(`LookupTable has no entry for ${JSON.stringify(value) ?? String(value)}; its keys: ${Object.keys(op.lookup_table).join(', ')}`);
      }
      return op.lookup_table[key];
    }
    case 'SequenceApply':
      if (!Array.isArray(value)) throw new TypeError(`SequenceApply needs a list, got ${typeof value}`);
      return value.map((item) => applyOperations(item, op.operations, named));
  }
}

function operandValue(operand: Operand, named: OperandValues): unknown {
  const base = operand.type === 'StaticOperand' ? operand.value : named[operand.operand_name];
  if (operand.type === 'DynamicOperand' && !(operand.operand_name in named)) throw new TypeError(`operand "${operand.operand_name}" is not defined: add it to operations_parameters`);
  return applyOperations(base, operand.operations ?? [], named);
}

const num = (value: unknown, what: string): number => {
  if (typeof value !== 'number') throw new TypeError(`${what} needs numbers, got ${JSON.stringify(value)}`);
  return value;
};
const text = (value: unknown, what: string): string => {
  if (typeof value !== 'string') throw new TypeError(`${what} needs strings, got ${JSON.stringify(value)}`);
  return value;
};
const list = (value: unknown, what: string): unknown[] => {
  if (!Array.isArray(value)) throw new TypeError(`${what} needs a list on the right, got ${JSON.stringify(value)}`);
  return value;
};

function equal(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function compare(comparator: BinaryStatement['comparator']['type'], left: unknown, right: unknown): boolean {
  switch (comparator) {
    case '==':
    case '(Number) ==':
      return equal(left, right);
    case '!=':
    case '(Number) !=':
      return !equal(left, right);
    case '(Number) >':
      return num(left, comparator) > num(right, comparator);
    case '(Number) >=':
      return num(left, comparator) >= num(right, comparator);
    case '(Number) <':
      return num(left, comparator) < num(right, comparator);
    case '(Number) <=':
      return num(left, comparator) <= num(right, comparator);
    case '(Number) in range': {
      const [lo, hi] = list(right, comparator);
      const x = num(left, comparator);
      return x >= num(lo, comparator) && x <= num(hi, comparator);
    }
    case '(String) startsWith':
      return text(left, comparator).startsWith(text(right, comparator));
    case '(String) endsWith':
      return text(left, comparator).endsWith(text(right, comparator));
    case '(String) contains':
      return text(left, comparator).includes(text(right, comparator));
    case 'in (Sequence)':
      return list(right, comparator).some((r) => equal(r, left));
    case 'all in (Sequence)':
      return list(left, comparator).every((l) => list(right, comparator).some((r) => equal(r, l)));
    case 'any in (Sequence)':
      return list(left, comparator).some((l) => list(right, comparator).some((r) => equal(r, l)));
    case '(Detection) in zone': {
      if (!isSingle(left)) throw new TypeError('(Detection) in zone needs one detection on the left (the `_` operand)');
      const zone = list(right, comparator) as [number, number][];
      return pointInPolygon(anchor(left.single, left.index, 'CENTER'), zone);
    }
  }
}

function unary(operator: UnaryStatement['operator']['type'], value: unknown): boolean {
  switch (operator) {
    case 'Exists':
      return value !== undefined && value !== null;
    case 'DoesNotExist':
      return value === undefined || value === null;
    case '(Boolean) is True':
      return value === true;
    case '(Boolean) is False':
      return value === false;
    case '(Sequence) is empty':
      return isDetections(value) ? detectionsLength(value) === 0 : (list(value, operator).length === 0);
    case '(Sequence) is not empty':
      return isDetections(value) ? detectionsLength(value) > 0 : (list(value, operator).length > 0);
  }
}

/** Evaluates a statement (group, binary or unary) with the named operands. */
export function evaluateStatement(statement: BinaryStatement | UnaryStatement | StatementGroup, named: OperandValues): boolean {
  if (statement.type === 'StatementGroup') {
    const results = statement.statements.map((s) => evaluateStatement(s, named));
    return (statement.operator ?? 'and') === 'and' ? results.every(Boolean) : results.some(Boolean);
  }
  let result: boolean;
  if (statement.type === 'BinaryStatement') {
    result = compare(statement.comparator.type, operandValue(statement.left_operand, named), operandValue(statement.right_operand, named));
  } else {
    const value = statement.operand.type === 'DynamicOperand' && !(statement.operand.operand_name in named) ? undefined : operandValue(statement.operand, named);
    result = unary(statement.operator.type, value);
  }
  return statement.negate ? !result : result;
}
