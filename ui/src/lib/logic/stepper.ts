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
  const lo = Math.max(MIN_QUANTITY, Math.ceil(min));
  const hi = Math.min(ceiling, Math.floor(max));
  if (!Number.isFinite(value)) return lo;
  return Math.min(hi, Math.max(lo, Math.trunc(value)));
}

/** The value after pressing + (`delta` > 0) or − (`delta` < 0), kept within bounds. */
export function step(value: number, delta: number, min = MIN_QUANTITY, max = MAX_QUANTITY, ceiling = MAX_QUANTITY): number {
  return clampQuantity(clampQuantity(value, min, max, ceiling) + delta, min, max, ceiling);
}

/**
 * A quantity typed as text: digits only (spaces and thin spaces from localised display are
 * ignored). Returns null for anything else, so a typo never becomes a silent zero.
 */
export function parseQuantity(text: string, min = MIN_QUANTITY, max = MAX_QUANTITY, ceiling = MAX_QUANTITY): number | null {
  const digits = text.replace(/[\s\u00a0\u202f]/g, '');
  if (!/^\d{1,6}$/.test(digits)) return null;
  return clampQuantity(Number(digits), min, max, ceiling);
}
