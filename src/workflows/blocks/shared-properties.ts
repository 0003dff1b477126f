/** Property specs that several blocks declare alike (the same kinds, literal and default). */
import * as v from 'valibot';
import { KIND } from '../kinds.ts';
import type { PropertySpec } from './block.ts';
import { bool, color, numberIn, zeroToOne } from './props.ts';

/** A required image input (`image`, `reference_image`). */
export const IMAGE_INPUT: PropertySpec = { kinds: [KIND.IMAGE], required: true };

/** A model block's required `images` (alias `image`): the frame or the crops it runs on. */
export const IMAGES_INPUT: PropertySpec = { kinds: [KIND.IMAGE], required: true, aliases: ['image'] };

/** A required video metadata input (`metadata` of the v1 blocks that read the video from it). */
export const VIDEO_METADATA_INPUT: PropertySpec = { kinds: [KIND.VIDEO_METADATA], required: true };

/** Required object detection or instance segmentation predictions. */
export const BOX_OR_MASK_PREDICTIONS_INPUT: PropertySpec = { kinds: [KIND.OBJECT_DETECTION_PREDICTION, KIND.INSTANCE_SEGMENTATION_PREDICTION], required: true };

/** A visualisation's `copy_image`: draw on a copy of the image (default) or on the image's own canvas. */
export const COPY_IMAGE: PropertySpec = { kinds: [KIND.BOOLEAN], literal: bool, default: true };

/** The colour a zone visualisation draws with (green by default). */
export const ZONE_COLOR: PropertySpec = { kinds: [KIND.STRING], literal: color, default: '#5bb573' };

/** The opacity a zone visualisation fills with. */
export const ZONE_OPACITY: PropertySpec = { kinds: [KIND.FLOAT_ZERO_TO_ONE], literal: numberIn(0, 1), default: 0.3 };

/** A score or threshold in [0, 1] that also takes any float selector (`confidence`, `min_*_confidence`, …). */
export function scoreProperty(defaultValue: number): PropertySpec {
  return { kinds: [KIND.FLOAT_ZERO_TO_ONE, KIND.FLOAT], literal: zeroToOne, default: defaultValue };
}

/** The class name given to every detection of a single-class block (`face`, `hand`, `person`). */
export function classNameProperty(defaultValue: string): PropertySpec {
  return { kinds: [KIND.STRING], literal: v.pipe(v.string(), v.minLength(1)), default: defaultValue };
}
