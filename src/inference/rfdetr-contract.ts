/**
 * RF-DETR's ONNX input/output contract, checked against a loaded session so a wrong model fails with a message
 * that names what was expected instead of producing garbage.
 */
import { ModelError } from '../pipeline/errors.ts';

export interface RfDetrContract {
  inputName: string;
  boxesName: string;
  logitsName: string;
  /** Square input side in pixels. */
  inputSize: number;
  convention: 'native' | 'hub';
}

/** The parts of an onnxruntime-web session that the check reads. */
export interface SessionShape {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly { name: string; isTensor: boolean; shape?: readonly (number | string)[] }[];
}

const EXPECTED =
  'one input [1,3,S,S] (`input` or `pixel_values`) and outputs `dets` [1,Q,4] + `labels` [1,Q,C] (native RF-DETR export) or `pred_boxes` + `logits` (hub export)';

export function checkRfDetrContract(session: SessionShape, inputSizeHint?: number): RfDetrContract {
  const outputs = new Set(session.outputNames);
  let boxesName: string;
  let logitsName: string;
  let convention: RfDetrContract['convention'];
  if (outputs.has('dets') && outputs.has('labels')) {
    [boxesName, logitsName, convention] = ['dets', 'labels', 'native'];
  } else if (outputs.has('pred_boxes') && outputs.has('logits')) {
    [boxesName, logitsName, convention] = ['pred_boxes', 'logits', 'hub'];
  } else {
    throw new ModelError(`model outputs [${session.outputNames.join(', ')}] do not match RF-DETR's contract: expected ${EXPECTED}`);
  }
  if (session.inputNames.length !== 1) {
    throw new ModelError(`model has ${session.inputNames.length} inputs [${session.inputNames.join(', ')}]: expected ${EXPECTED}`);
  }
  const inputName = session.inputNames[0]!;
  const shape = session.inputMetadata?.find((m) => m.name === inputName)?.shape ?? [];
  if (shape.length > 0 && (shape.length !== 4 || (typeof shape[1] === 'number' && shape[1] !== 3))) {
    throw new ModelError(`model input \`${inputName}\` has shape [${shape.join(',')}]: expected ${EXPECTED}`);
  }
  const h = shape[2];
  const w = shape[3];
  if (typeof h === 'number' && typeof w === 'number' && h !== w) {
    throw new ModelError(`model input \`${inputName}\` is ${w}×${h}: expected a square input, ${EXPECTED}`);
  }
  const inputSize = typeof h === 'number' && h > 0 ? h : inputSizeHint;
  if (!inputSize) {
    throw new ModelError(`model input \`${inputName}\` has a dynamic size [${shape.join(',')}]: pass \`inputSize\` in the model spec`);
  }
  if (inputSizeHint && inputSizeHint !== inputSize) {
    throw new ModelError(`model spec says inputSize ${inputSizeHint} but the ONNX input is ${inputSize}×${inputSize}`);
  }
  return { inputName, boxesName, logitsName, inputSize, convention };
}

/** Checks the output tensors of one run: boxes [1,Q,4], logits [1,Q,C]. Returns Q and C. */
export function checkRfDetrOutputs(boxesDims: readonly number[], logitsDims: readonly number[], c: RfDetrContract): { queries: number; classes: number } {
  const ok = boxesDims.length === 3 && logitsDims.length === 3 && boxesDims[2] === 4 && boxesDims[1] === logitsDims[1] && boxesDims[0] === 1;
  if (!ok) {
    throw new ModelError(
      `model outputs \`${c.boxesName}\` [${boxesDims.join(',')}] and \`${c.logitsName}\` [${logitsDims.join(',')}] do not match RF-DETR's contract: expected [1,Q,4] and [1,Q,C]`,
    );
  }
  return { queries: boxesDims[1]!, classes: logitsDims[2]! };
}
