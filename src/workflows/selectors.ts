/**
 * Selectors: `$inputs.name`, `$steps.step.output` and `$steps.step.*` (a dict of all of a step's outputs).
 */

/** A parsed selector. */
export type Selector =
  | { kind: 'input'; name: string; raw: string }
  | { kind: 'step'; step: string; output: string; raw: string }
  | { kind: 'step_all'; step: string; raw: string };

const NAME = '[A-Za-z0-9_\\-]+';
const INPUT_RE = new RegExp(`^\\$inputs\\.(${NAME})$`);
const STEP_RE = new RegExp(`^\\$steps\\.(${NAME})\\.(${NAME}|\\*)$`);

/** Whether `value` is written as a selector (a string starting with `$`). */
export function looksLikeSelector(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('$');
}

/** Parses a selector; `undefined` when the text is not a well-formed selector. */
export function parseSelector(text: string): Selector | undefined {
  const input = INPUT_RE.exec(text);
  if (input) return { kind: 'input', name: input[1]!, raw: text };
  const step = STEP_RE.exec(text);
  if (step) return step[2] === '*' ? { kind: 'step_all', step: step[1]!, raw: text } : { kind: 'step', step: step[1]!, output: step[2]!, raw: text };
  return undefined;
}
