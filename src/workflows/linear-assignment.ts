/**
 * Minimum-cost assignment with a threshold, as supervision's ByteTrack matching does it: costs above `thresh`
 * are clamped, scipy's `linear_sum_assignment` (here the Hungarian algorithm) pairs rows and columns, and pairs
 * costing more than `thresh` are dropped.
 */

/** Hungarian algorithm for a rows × cols cost matrix (rows ≤ cols); returns the column of each row. */
function hungarian(cost: readonly (readonly number[])[], rows: number, cols: number): number[] {
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1); // p[j]: row matched to column j (1-based), 0 = none
  const way = new Int32Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(cols + 1).fill(INF);
    const used = new Uint8Array(cols + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j]! > 0) assignment[p[j]! - 1] = j - 1;
  return assignment;
}

/** The result of {@link linearAssignment}. */
export interface Assignment {
  /** `[row, col]` pairs, by ascending row. */
  matches: [number, number][];
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/** Pairs rows with columns at minimum total cost, keeping pairs whose cost is at most `thresh`. */
export function linearAssignment(cost: readonly (readonly number[])[], rows: number, cols: number, thresh: number): Assignment {
  if (rows === 0 || cols === 0) return { matches: [], unmatchedRows: [...Array(rows).keys()], unmatchedCols: [...Array(cols).keys()] };
  const clamped = cost.map((row) => row.map((c) => (c > thresh ? thresh + 1e-4 : c)));
  let pairs: [number, number][];
  if (rows <= cols) {
    pairs = hungarian(clamped, rows, cols).map((c, r) => [r, c] as [number, number]);
  } else {
    const transposed = Array.from({ length: cols }, (_, c) => Array.from({ length: rows }, (_, r) => clamped[r]![c]!));
    pairs = hungarian(transposed, cols, rows).map((r, c) => [r, c] as [number, number]);
  }
  const matches = pairs.filter(([r, c]) => r >= 0 && c >= 0 && clamped[r]![c]! <= thresh).sort((a, b) => a[0] - b[0]);
  const matchedRows = new Set(matches.map((m) => m[0]));
  const matchedCols = new Set(matches.map((m) => m[1]));
  return {
    matches,
    unmatchedRows: [...Array(rows).keys()].filter((r) => !matchedRows.has(r)),
    unmatchedCols: [...Array(cols).keys()].filter((c) => !matchedCols.has(c)),
  };
}
