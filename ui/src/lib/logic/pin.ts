/**
 * PIN entry on the on-screen digit pad. A PIN is 4–8 digits; it unlocks the device and derives
 * the key of the encrypted store, so trivially guessable PINs are refused when one is set.
 */
export const PIN_MIN = 4;
export const PIN_MAX = 8;

/** The PIN after a digit key; ignored beyond the maximum length or for anything but 0–9. */
export function pressDigit(pin: string, digit: string): string {
  if (!/^\d$/.test(digit) || pin.length >= PIN_MAX) return pin;
  return pin + digit;
}

export function backspace(pin: string): string {
  return pin.slice(0, -1);
}

export type PinProblem = 'too_short' | 'too_long' | 'not_digits' | 'too_simple';

/** Why a PIN cannot be used to unlock (shape only). */
export function pinShapeProblem(pin: string): PinProblem | null {
  if (!/^\d*$/.test(pin)) return 'not_digits';
  if (pin.length < PIN_MIN) return 'too_short';
  if (pin.length > PIN_MAX) return 'too_long';
  return null;
}

/** All one digit (1111) or a run up or down (1234, 9876, 0123). */
export function isTooSimple(pin: string): boolean {
  if (/^(\d)\1*$/.test(pin)) return true;
  const steps = [...pin].slice(1).map((d, i) => Number(d) - Number(pin[i]));
  return steps.every((s) => s === 1) || steps.every((s) => s === -1);
}

/** Why a new PIN cannot be set. */
export function newPinProblem(pin: string): PinProblem | null {
  const shape = pinShapeProblem(pin);
  if (shape) return shape;
  return isTooSimple(pin) ? 'too_simple' : null;
}

export type PinConfirmProblem = PinProblem | 'mismatch';

/** Checks the PIN typed twice when setting it. */
export function confirmPinProblem(first: string, second: string): PinConfirmProblem | null {
  return newPinProblem(first) ?? (first === second ? null : 'mismatch');
}
