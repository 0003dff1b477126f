/**
 * Segmentation masks as COCO run-length encoding, the form Roboflow's engine serialises masks in (`rle_mask`,
 * pycocotools' compressed `counts` string): runs over the pixels in column-major order (down each column, columns
 * left to right), starting with a run of 0s, each run delta-coded against the run two before and written as
 * 5-bit groups in ASCII from `0` (48).
 */

/** Compressed COCO RLE `counts` of a `width × height` mask (row-major, non-zero = inside). */
export function encodeMaskRle(mask: ArrayLike<number>, width: number, height: number): string {
  if (mask.length !== width * height) throw new RangeError(`the mask has ${mask.length} values, not ${width} × ${height}`);
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const inside = mask[y * width + x] ? 1 : 0;
      if (inside !== current) {
        counts.push(run);
        run = 0;
        current = inside;
      }
      run++;
    }
  }
  counts.push(run);
  let out = '';
  counts.forEach((count, i) => {
    let x = i > 2 ? count - counts[i - 2]! : count;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  });
  return out;
}

/** The runs of a compressed COCO RLE `counts` string. */
export function rleCounts(counts: string): number[] {
  const out: number[] = [];
  let p = 0;
  while (p < counts.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= counts.length) throw new SyntaxError('truncated RLE counts');
      const c = counts.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (out.length > 2) x += out[out.length - 2]!;
    out.push(x);
  }
  return out;
}

/** Decodes compressed COCO RLE `counts` into a row-major `width × height` mask of 0/1. */
export function decodeMaskRle(counts: string, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  let position = 0;
  let value = 0;
  for (const run of rleCounts(counts)) {
    if (run < 0 || position + run > width * height) throw new RangeError('the RLE counts do not fit the mask size');
    if (value) {
      for (let i = position; i < position + run; i++) mask[(i % height) * width + Math.floor(i / height)] = 1;
    }
    position += run;
    value ^= 1;
  }
  if (position !== width * height) throw new RangeError(`the RLE counts cover ${position} pixels, not ${width * height}`);
  return mask;
}
