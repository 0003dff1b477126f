/** Literal schemas shared by the block manifests. */
import * as v from 'valibot';
import { POSITIONS } from '../detections.ts';

/** A number in [min, max]. */
export const numberIn = (min: number, max: number) => v.pipe(v.number(), v.finite(), v.minValue(min), v.maxValue(max));
/** An integer ≥ min. */
export const integerFrom = (min: number) => v.pipe(v.number(), v.integer(), v.minValue(min));
/** A probability-like number in [0, 1]. */
export const zeroToOne = numberIn(0, 1);
/** A boolean. */
export const bool = v.boolean();
/** A string. */
export const str = v.string();
/** A list of strings. */
export const stringList = v.array(v.string());
/** A point `[x, y]`. */
export const point = v.tuple([v.pipe(v.number(), v.finite()), v.pipe(v.number(), v.finite())]);
/** A polygon: at least 3 points. */
export const polygon = v.pipe(v.array(point), v.minLength(3, 'a polygon needs at least 3 points'));
/** One polygon or a list of polygons. */
export const zones = v.union([polygon, v.pipe(v.array(polygon), v.minLength(1, 'at least one polygon'))]);
/** A line segment: exactly 2 points. */
export const lineSegment = v.pipe(v.array(point), v.length(2, 'a line segment is exactly 2 points'));
/** An anchor position. */
export const position = v.picklist(POSITIONS);
/** Anything (validated by the block). */
export const anything = v.unknown();
/** A colour: `#RRGGBB`, `rgb(r, g, b)`, `(r, g, b)` or a supervision colour name. */
export const color = v.pipe(v.string(), v.minLength(1));
