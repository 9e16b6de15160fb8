/**
 * PIN entry on the on-screen digit pad. The PIN unlocks the device and derives the key of the
 * encrypted store. The lengths are the backend's (`lock::UNLOCK_PIN_DIGITS` and
 * `lock::NEW_PIN_DIGITS`, generated into `generated/backend.ts`): a PIN of {@link PIN_MIN} to
 * {@link PIN_MAX} digits unlocks (the 4-digit PINs set before the 6-digit rule still do); a new
 * PIN has {@link NEW_PIN_MIN} to {@link NEW_PIN_MAX} digits and is not trivially guessable.
 * The form checks a new PIN before sending it, so the worker is told at once; the backend
 * (`lock::check_new_pin`) decides, and `pin.test.ts` checks this agrees with what it refused.
 */
import { NEW_PIN_MAX, NEW_PIN_MIN, PIN_MAX, PIN_MIN } from '../backend';

export { NEW_PIN_MAX, NEW_PIN_MIN, PIN_MAX, PIN_MIN };

/** The PIN after a digit key; ignored beyond the maximum length or for anything but 0–9. */
export function pressDigit(pin: string, digit: string): string {
  if (!/^\d$/.test(digit) || pin.length >= PIN_MAX) return pin;
  return pin + digit;
}

export function backspace(pin: string): string {
  return pin.slice(0, -1);
}

export type PinProblem = 'too_short' | 'too_long' | 'not_digits' | 'too_simple';

/** Why a PIN cannot be used to unlock (shape only); `min` and `max` are narrowed for a new PIN. */
export function pinShapeProblem(pin: string, min: number = PIN_MIN, max: number = PIN_MAX): PinProblem | null {
  if (!/^\d*$/.test(pin)) return 'not_digits';
  if (pin.length < min) return 'too_short';
  if (pin.length > max) return 'too_long';
  return null;
}

/** All one digit (111111) or a run up or down (123456, 987654, 012345). */
export function isTooSimple(pin: string): boolean {
  if (/^(\d)\1*$/.test(pin)) return true;
  const steps = [...pin].slice(1).map((d, i) => Number(d) - Number(pin[i]));
  return steps.every((s) => s === 1) || steps.every((s) => s === -1);
}

/** Why a new PIN cannot be set: {@link NEW_PIN_MIN} to {@link NEW_PIN_MAX} digits, not too simple. */
export function newPinProblem(pin: string): PinProblem | null {
  const shape = pinShapeProblem(pin, NEW_PIN_MIN, NEW_PIN_MAX);
  if (shape) return shape;
  return isTooSimple(pin) ? 'too_simple' : null;
}

export type PinConfirmProblem = PinProblem | 'mismatch';

/** Checks the PIN typed twice when setting it. */
export function confirmPinProblem(first: string, second: string): PinConfirmProblem | null {
  return newPinProblem(first) ?? (first === second ? null : 'mismatch');
}
