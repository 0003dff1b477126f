/**
 * Model references and their resolution to a ModelSpec: everything needed to fetch and run an RF-DETR ONNX file.
 */
import type { ResizeMode, StaticCrop } from '../inference/resize-transform.ts';

/** A model given by URL, with optional overrides of what is read from the ONNX file. */
export interface ModelUrlReference {
  /** Where the ONNX file is served (absolute, or relative to the page). */
  url: string;
  /** Square input side in pixels; read from the ONNX input shape when omitted. */
  inputSize?: number;
  /** Class names indexed by class id; COCO-91 names are used for 91-class heads when omitted. */
  classNames?: string[];
  /** Per-channel mean in 0..1 RGB. Default: ImageNet [0.485, 0.456, 0.406]. */
  mean?: [number, number, number];
  /** Per-channel std in 0..1 RGB. Default: ImageNet [0.229, 0.224, 0.225]. */
  std?: [number, number, number];
  /** Default 'stretch' (RF-DETR's own preprocessing). */
  resize?: ResizeMode;
  /** Static crop in percent, applied before resizing. */
  staticCrop?: StaticCrop;
  /** Letterbox padding grey level 0..255 (0 black, 114 grey, 255 white). Default 0. */
  padGrey?: number;
}

/** An RF-DETR alias, or a URL reference. */
export type ModelReference = RfDetrAlias | ModelUrlReference;

export type RfDetrAlias = 'rfdetr-nano' | 'rfdetr-small' | 'rfdetr-medium' | 'rfdetr-base' | 'rfdetr-large';

/** A fully resolved model. */
export interface ModelSpec {
  url: string;
  inputSize?: number;
  classNames?: string[];
  mean: [number, number, number];
  std: [number, number, number];
  resize: ResizeMode;
  staticCrop?: StaticCrop;
  padGrey: number;
}

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** Input sizes of the RF-DETR family; hub repositories follow `onnx-community/rfdetr_<size>-ONNX`. */
export const RFDETR_ALIASES: Readonly<Record<RfDetrAlias, { inputSize: number; hubRepo: string }>> = Object.freeze({
  'rfdetr-nano': { inputSize: 384, hubRepo: 'onnx-community/rfdetr_nano-ONNX' },
  'rfdetr-small': { inputSize: 512, hubRepo: 'onnx-community/rfdetr_small-ONNX' },
  'rfdetr-medium': { inputSize: 576, hubRepo: 'onnx-community/rfdetr_medium-ONNX' },
  'rfdetr-base': { inputSize: 560, hubRepo: 'onnx-community/rfdetr_base-ONNX' },
  'rfdetr-large': { inputSize: 704, hubRepo: 'onnx-community/rfdetr_large-ONNX' },
});

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export interface ResolveOptions {
  /** Base URL of the model hub. Default `https://huggingface.co`. */
  hubUrl?: string;
  /** Base against which relative URLs resolve. Default: the page's URL. */
  baseUrl?: string;
}

function checkTriple(path: string, value: unknown): [number, number, number] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new TypeError(`modelId.${path} must be three finite numbers, got ${JSON.stringify(value)}`);
  }
  return value as [number, number, number];
}

/** Resolves a model reference to a spec. Throws TypeError naming the option and the value on bad input. */
export function resolveModelSpec(reference: ModelReference, options: ResolveOptions = {}): ModelSpec {
  const base = options.baseUrl ?? globalThis.location?.href;
  if (typeof reference === 'string') {
    const alias = RFDETR_ALIASES[reference as RfDetrAlias];
    if (!alias) {
      throw new TypeError(
        `modelId "${reference}" is not a known model: expected one of ${Object.keys(RFDETR_ALIASES).join(', ')} or { url }`,
      );
    }
    const hub = (options.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
    return {
      url: `${hub}/${alias.hubRepo}/resolve/main/onnx/model.onnx`,
      inputSize: alias.inputSize,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      resize: 'stretch',
      padGrey: 0,
    };
  }
  if (typeof reference !== 'object' || reference === null || typeof reference.url !== 'string' || reference.url === '') {
    throw new TypeError(`modelId must be an RF-DETR alias or { url: string }, got ${JSON.stringify(reference)}`);
  }
  if (reference.resize !== undefined && reference.resize !== 'stretch' && reference.resize !== 'letterbox') {
    throw new TypeError(`modelId.resize must be "stretch" or "letterbox", got ${JSON.stringify(reference.resize)}`);
  }
  if (reference.inputSize !== undefined && !(Number.isInteger(reference.inputSize) && reference.inputSize > 0)) {
    throw new TypeError(`modelId.inputSize must be a positive integer, got ${JSON.stringify(reference.inputSize)}`);
  }
  return {
    url: base ? new URL(reference.url, base).href : reference.url,
    inputSize: reference.inputSize,
    classNames: reference.classNames,
    mean: checkTriple('mean', reference.mean) ?? IMAGENET_MEAN,
    std: checkTriple('std', reference.std) ?? IMAGENET_STD,
    resize: reference.resize ?? 'stretch',
    staticCrop: reference.staticCrop,
    padGrey: reference.padGrey ?? 0,
  };
}
