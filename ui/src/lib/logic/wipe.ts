/**
 * How many wrong PINs in a row wipe the local data of the tablet (`Status.wipe_after`, set with
 * `set_wipe_after`). Fewer protects a lost or seized tablet sooner; more leaves room for typos
 * before records not yet sent are lost. The limits are the backend's (`lock::MAX_ATTEMPTS_RANGE`
 * and `lock::DEFAULT_MAX_ATTEMPTS`, generated into `generated/backend.ts`).
 */
import { WIPE_AFTER_DEFAULT, WIPE_AFTER_MAX, WIPE_AFTER_MIN } from '../backend';

export { WIPE_AFTER_DEFAULT, WIPE_AFTER_MAX, WIPE_AFTER_MIN };

/** Limits a worker can choose in Settings. */
export const WIPE_CHOICES = [3, 5, 10, 20] as const;

/** Whether the backend takes this limit. */
export function validWipeAfter(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= WIPE_AFTER_MIN && value <= WIPE_AFTER_MAX;
}

/**
 * The choices to show: {@link WIPE_CHOICES}, plus the current limit in its place when it is
 * another valid one (set before, or by a later version), so the current value is always shown
 * selected.
 */
export function wipeChoices(current: number | null | undefined): number[] {
  const choices: number[] = [...WIPE_CHOICES];
  if (validWipeAfter(current) && !choices.includes(current)) {
    choices.push(current);
    choices.sort((a, b) => a - b);
  }
  return choices;
}
