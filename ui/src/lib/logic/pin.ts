/**
 * PIN entry on the on-screen digit pad. The PIN unlocks the device and derives the key of the
 * encrypted store. A new PIN has 6 to 8 digits and is not trivially guessable (the Rust side,
 * `lock::check_new_pin`, refuses the same); unlocking still accepts the 4-digit PINs set before
 * the 6-digit rule.
 */

/** The shortest PIN that unlocks (PINs set before the 6-digit rule may have 4 digits). */
export const PIN_MIN = 4;
/** The shortest PIN that can be set now. */
export const NEW_PIN_MIN = 6;
/**
 * The longest PIN the pad takes. The Rust side accepts up to 12 digits, but this app never let
 * anyone set more than 8, so no existing PIN is longer.
 */
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

/** Why a PIN cannot be used to unlock (shape only); `min` is raised for a new PIN. */
export function pinShapeProblem(pin: string, min: number = PIN_MIN): PinProblem | null {
  if (!/^\d*$/.test(pin)) return 'not_digits';
  if (pin.length < min) return 'too_short';
  if (pin.length > PIN_MAX) return 'too_long';
  return null;
}

/** All one digit (111111) or a run up or down (123456, 987654, 012345). */
export function isTooSimple(pin: string): boolean {
  if (/^(\d)\1*$/.test(pin)) return true;
  const steps = [...pin].slice(1).map((d, i) => Number(d) - Number(pin[i]));
  return steps.every((s) => s === 1) || steps.every((s) => s === -1);
}

/** Why a new PIN cannot be set: at least {@link NEW_PIN_MIN} digits, not too simple. */
export function newPinProblem(pin: string): PinProblem | null {
  const shape = pinShapeProblem(pin, NEW_PIN_MIN);
  if (shape) return shape;
  return isTooSimple(pin) ? 'too_simple' : null;
}

export type PinConfirmProblem = PinProblem | 'mismatch';

/** Checks the PIN typed twice when setting it. */
export function confirmPinProblem(first: string, second: string): PinConfirmProblem | null {
  return newPinProblem(first) ?? (first === second ? null : 'mismatch');
}
