/**
 * Bounds of every quantity a worker can enter with a stepper: never negative, at most 10 000
 * (the server refuses distribution quantities outside 1–10 000). A screen whose quantities the
 * server accepts in a wider range (stock counts) may raise the ceiling explicitly; a plain `max`
 * never widens it.
 */
export const MIN_QUANTITY = 0;
export const MAX_QUANTITY = 10_000;

/** Clamps to `[min, max]` and to a whole number; anything not a finite number becomes `min`. */
export function clampQuantity(value: number, min = MIN_QUANTITY, max = MAX_QUANTITY, ceiling = MAX_QUANTITY): number {
  const { lo, hi } = quantityBounds(min, max, ceiling);
  if (!Number.isFinite(value)) return lo;
  return Math.min(hi, Math.max(lo, Math.trunc(value)));
}

/** The value after pressing + (`delta` > 0) or − (`delta` < 0), kept within bounds. */
export function step(value: number, delta: number, min = MIN_QUANTITY, max = MAX_QUANTITY, ceiling = MAX_QUANTITY): number {
  return clampQuantity(clampQuantity(value, min, max, ceiling) + delta, min, max, ceiling);
}

/** The whole numbers a stepper accepts: `[lo, hi]` after applying the ceiling and the floor of 0. */
export function quantityBounds(min = MIN_QUANTITY, max = MAX_QUANTITY, ceiling = MAX_QUANTITY): { lo: number; hi: number } {
  return { lo: Math.max(MIN_QUANTITY, Math.ceil(min)), hi: Math.min(ceiling, Math.floor(max)) };
}

/** Why a typed quantity cannot be kept as typed. */
export type QuantityProblem = 'above' | 'below' | 'not_number';

export interface TypedQuantity {
  /**
   * What the stepper keeps: the number itself when it is in range, the nearest bound when it is
   * above or below, null when the text is not a whole number (the previous value stays).
   */
  value: number | null;
  /** The number as typed (null when the text is not a whole number). */
  typed: number | null;
  problem: QuantityProblem | null;
}

/**
 * Reads a quantity typed as text: digits only (spaces and thin spaces from localised display are
 * ignored). A number out of range is brought to the nearest bound and says so (`above`,
 * `below`), so the screen can tell the worker; anything else (empty, a sign, a fraction,
 * letters) is `not_number`, so a typo never becomes a silent zero.
 */
export function readQuantity(text: string, min = MIN_QUANTITY, max = MAX_QUANTITY, ceiling = MAX_QUANTITY): TypedQuantity {
  const digits = text.replace(/[\s\u00a0\u202f]/g, '');
  if (!/^\d+$/.test(digits)) return { value: null, typed: null, problem: 'not_number' };
  const typed = Number(digits);
  const { lo, hi } = quantityBounds(min, max, ceiling);
  if (typed > hi) return { value: hi, typed, problem: 'above' };
  if (typed < lo) return { value: lo, typed, problem: 'below' };
  return { value: typed, typed, problem: null };
}

/**
 * A quantity typed as text, brought within bounds; null when it is not a whole number. (The
 * stepper uses {@link readQuantity}, which also says whether the number had to be changed.)
 */
export function parseQuantity(text: string, min = MIN_QUANTITY, max = MAX_QUANTITY, ceiling = MAX_QUANTITY): number | null {
  return readQuantity(text, min, max, ceiling).value;
}
