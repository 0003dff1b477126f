/**
 * ByteTrack's constant-velocity Kalman filter on `(x, y, a, h)` (centre, aspect ratio, height) and their
 * velocities, as supervision implements it. Matrices are row-major Float64Arrays.
 */

const NDIM = 4;
const STD_POSITION = 1 / 20;
const STD_VELOCITY = 1 / 160;

/** A track's state: 8-d mean and 8×8 covariance. */
export interface KalmanState {
  mean: Float64Array;
  covariance: Float64Array;
}

function diagonalSquares(std: readonly number[]): Float64Array {
  const n = std.length;
  const m = new Float64Array(n * n);
  std.forEach((s, i) => (m[i * n + i] = s * s));
  return m;
}

/** Inverts a small square matrix (Gauss–Jordan with partial pivoting). */
function invert(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) {
        [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[col * n + k]!];
        [inv[col * n + k], inv[pivot * n + k]] = [inv[pivot * n + k]!, inv[col * n + k]!];
      }
    }
    const d = m[col * n + col]! || 1e-12;
    for (let k = 0; k < n; k++) {
      m[col * n + k]! /= d;
      inv[col * n + k]! /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col]!;
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k]! -= f * m[col * n + k]!;
        inv[r * n + k]! -= f * inv[col * n + k]!;
      }
    }
  }
  return inv;
}

/** Creates a track's state from a first measurement `(x, y, a, h)`. */
export function kalmanInitiate(measurement: readonly number[]): KalmanState {
  const h = measurement[3]!;
  const mean = new Float64Array(8);
  mean.set(measurement.slice(0, 4));
  const std = [2 * STD_POSITION * h, 2 * STD_POSITION * h, 1e-2, 2 * STD_POSITION * h, 10 * STD_VELOCITY * h, 10 * STD_VELOCITY * h, 1e-5, 10 * STD_VELOCITY * h];
  return { mean, covariance: diagonalSquares(std) };
}

/** One time step: x += v, covariance grows by the motion noise. */
export function kalmanPredict(state: KalmanState): KalmanState {
  const { mean, covariance: p } = state;
  const h = mean[3]!;
  const q = diagonalSquares([STD_POSITION * h, STD_POSITION * h, 1e-2, STD_POSITION * h, STD_VELOCITY * h, STD_VELOCITY * h, 1e-5, STD_VELOCITY * h]);
  const next = Float64Array.from(mean);
  for (let i = 0; i < NDIM; i++) next[i] = mean[i]! + mean[NDIM + i]!;
  // F P Fᵀ with F = [[I, I], [0, I]].
  const fp = new Float64Array(64);
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) fp[r * 8 + c] = p[r * 8 + c]! + (r < NDIM ? p[(r + NDIM) * 8 + c]! : 0);
  const cov = new Float64Array(64);
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) cov[r * 8 + c] = fp[r * 8 + c]! + (c < NDIM ? fp[r * 8 + c + NDIM]! : 0) + q[r * 8 + c]!;
  return { mean: next, covariance: cov };
}

/** Corrects the state with a measurement `(x, y, a, h)`. */
export function kalmanUpdate(state: KalmanState, measurement: readonly number[]): KalmanState {
  const { mean, covariance: p } = state;
  const h = mean[3]!;
  const r = [STD_POSITION * h, STD_POSITION * h, 1e-1, STD_POSITION * h];
  // S = H P Hᵀ + R (the top-left 4×4 block plus the measurement noise).
  const s = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) s[i * 4 + j] = p[i * 8 + j]! + (i === j ? r[i]! ** 2 : 0);
  const sInv = invert(s, 4);
  // K = P Hᵀ S⁻¹ (8×4).
  const k = new Float64Array(32);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 4; j++) {
    let sum = 0;
    for (let t = 0; t < 4; t++) sum += p[i * 8 + t]! * sInv[t * 4 + j]!;
    k[i * 4 + j] = sum;
  }
  const innovation = [0, 1, 2, 3].map((i) => measurement[i]! - mean[i]!);
  const nextMean = Float64Array.from(mean);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 4; j++) nextMean[i]! += k[i * 4 + j]! * innovation[j]!;
  // P − K S Kᵀ.
  const ks = new Float64Array(32);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 4; j++) {
    let sum = 0;
    for (let t = 0; t < 4; t++) sum += k[i * 4 + t]! * s[t * 4 + j]!;
    ks[i * 4 + j] = sum;
  }
  const cov = Float64Array.from(p);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
    let sum = 0;
    for (let t = 0; t < 4; t++) sum += ks[i * 4 + t]! * k[j * 4 + t]!;
    cov[i * 8 + j]! -= sum;
  }
  return { mean: nextMean, covariance: cov };
}
