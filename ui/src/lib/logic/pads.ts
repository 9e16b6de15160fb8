/**
 * What the in-app pads offer, so a client code and a year of birth are entered without the
 * system keyboard (which on a tablet covers half the screen, Confirm included).
 */

/** The characters a client code is made of: the core transliterates every answer to A–Z, 0–9. */
export const CODE_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
export const CODE_DIGITS = '1234567890'.split('');

/** The longest code the pad types (as `normaliseTypedCode` keeps). */
export const MAX_CODE_CHARS = 16;

/** A key pressed on the code pad applied to the typed code. */
export function pressCodeKey(code: string, key: string | 'backspace' | 'clear'): string {
  if (key === 'clear') return '';
  if (key === 'backspace') return code.slice(0, -1);
  return code.length >= MAX_CODE_CHARS ? code : code + key;
}

/**
 * The decades a client's year of birth is picked from: from the one 90 years back to the one
 * of people 10 years old, newest last. Clients older or younger are not expected.
 */
export function birthDecades(today: Date): number[] {
  const year = today.getFullYear();
  const first = Math.floor((year - 90) / 10) * 10;
  const last = Math.floor((year - 10) / 10) * 10;
  const out: number[] = [];
  for (let d = first; d <= last; d += 10) out.push(d);
  return out;
}

/** A decade as its years: `1980–89`. */
export function decadeLabel(decade: number): string {
  return `${decade}–${String((decade + 9) % 100).padStart(2, '0')}`;
}

/** The year a decade and a last digit make, or null while either is missing. */
export function yearFrom(decade: number | null, digit: number | null): number | null {
  return decade === null || digit === null ? null : decade + digit;
}

/** A year split back into its decade and last digit (for showing a year already answered). */
export function splitYear(year: string | null | undefined): { decade: number | null; digit: number | null } {
  const y = year?.trim();
  if (!y || !/^\d{4}$/.test(y)) return { decade: null, digit: null };
  const n = Number(y);
  return { decade: n - (n % 10), digit: n % 10 };
}
