/**
 * The refusals the fake backend throws, each the real command's recorded one (see
 * `fakeBackend.ts`): a wrong PIN or worker name, an unknown contact, a locked app, a linkage of a
 * test that is not reactive.
 */
import type { BackendError } from './backend';
import { NEW_PIN_MAX, NEW_PIN_MIN } from './backend';
import { exchanges, isRefused, linkageRefusal, refusal, type Refusal } from './fixtures';

/** Thrown as the real command rejects: a recorded refusal is its error, or Tauri's plain string. */
export function refuse(error: Refusal | BackendError): never {
  throw structuredClone(error);
}

/** The recorded refusal of a PIN or worker name, for `set_pin` and `switch_worker`. */
export function pinRefusal(pin: string): Refusal | undefined {
  const same = exchanges('set_pin').find((e) => isRefused(e) && refusalCodeIs(e.error, 'invalid') && e.args.pin === pin && !blank(e.args.worker));
  if (same && isRefused(same)) return same.error;
  // A PIN of the wrong shape (by the generated limits): refused as the recorded one was.
  const shaped = new RegExp(`^\\d{${NEW_PIN_MIN},${NEW_PIN_MAX}}$`).test(pin);
  if (!shaped) return refusal('set_pin', 'invalid', (e) => (e.args.pin as string).length < NEW_PIN_MIN && !blank(e.args.worker));
  return undefined;
}

export function refusalCodeIs(error: Refusal, code: string): boolean {
  return typeof error !== 'string' && error.code === code;
}

export function blank(worker: unknown): boolean {
  return typeof worker !== 'string' || worker.trim() === '';
}

/** The recorded refusal of a blank worker's name (the names are trimmed). */
export function workerRefusal(command: 'set_pin' | 'switch_worker'): BackendError {
  return refusal(command, 'invalid', (e) => blank(e.args.worker));
}

/**
 * The recorded refusal of a correction of an unknown contact: the command's own, or
 * `update_contact`'s (the corrections share `DeviceStore::editable_contact`).
 */
export function contactNotFound(command: string): BackendError {
  const own = exchanges(command).some((e) => isRefused(e) && refusalCodeIs(e.error, 'not_found'));
  return refusal(own ? command : 'update_contact', 'not_found');
}

/** The recorded refusal of any command run while the app is locked (one message for all). */
export function appLocked(): BackendError {
  return refusal('*', 'app_locked');
}

/**
 * What `record_linkage` refuses a test that is not reactive with: the recorded refusal once the
 * recorder has one; until then the words of `DeviceStore::record_linkage` (crates/device
 * workflows.rs), in the form of the recorded `already_linked` refusal.
 */
export function notReactiveRefusal(): BackendError {
  return linkageRefusal('not_reactive') ?? { code: 'invalid', message: 'invalid input: test: only a reactive test waits for linkage to care' };
}
