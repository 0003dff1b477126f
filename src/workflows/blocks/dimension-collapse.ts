/**
 * `roboflow_core/dimension_collapse@v1` (alias DimensionCollapse): the values of `data` at a nested dimensionality
 * level (e.g. one per crop of a frame) gathered into one list at the level above (one list per frame), the output
 * sitting one level higher than `data` (the reference's output dimensionality offset of −1). Here that is declared
 * as `data` being read one level deeper than the step runs at, so data at the frame's level (or a parameter) has no
 * level to collapse into and compiling fails with StepInputDimensionalityError.
 */
import { KIND } from '../kinds.ts';
import type { BlockManifest } from './block.ts';

/** `roboflow_core/dimension_collapse@v1`. */
export const DimensionCollapseV1: BlockManifest = {
  type: 'roboflow_core/dimension_collapse@v1',
  aliases: ['DimensionCollapse', 'dimension_collapse@v1'],
  description: 'Gathers the values of data at a nested level into one list at the level above (dimensionality − 1).',
  properties: {
    data: { kinds: [KIND.WILDCARD], required: true },
  },
  inputDimensionalityOffsets: { data: 1 },
  outputs: () => [{ name: 'output', kinds: [KIND.LIST_OF_VALUES] }],
  create: () => ({
    run(inputs) {
      if (!Array.isArray(inputs.data)) throw new TypeError('data must be the list of values at the nested level');
      return { output: [...inputs.data] };
    },
  }),
};
