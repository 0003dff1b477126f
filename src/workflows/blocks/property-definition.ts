/** `roboflow_core/property_definition@v1`: applies query-language operations (SequenceLength, property extraction, …) to any value. */
import { KIND } from '../kinds.ts';
import { applyOperations, OperationsSchema, type Operation } from '../query-language.ts';
import type { BlockManifest } from './block.ts';

/** `roboflow_core/property_definition@v1` (aliases PropertyDefinition, PropertyExtraction). */
export const PropertyDefinitionV1: BlockManifest = {
  type: 'roboflow_core/property_definition@v1',
  aliases: ['PropertyDefinition', 'PropertyExtraction', 'property_definition@v1'],
  description: 'Computes a value from another one with query-language operations.',
  properties: {
    data: { kinds: [KIND.WILDCARD], required: true },
    operations: { literal: OperationsSchema, required: true },
  },
  outputs: () => [{ name: 'output', kinds: [KIND.WILDCARD] }],
  create: () => ({
    run(inputs) {
      return { output: applyOperations(inputs.data, inputs.operations as Operation[]) };
    },
  }),
};
