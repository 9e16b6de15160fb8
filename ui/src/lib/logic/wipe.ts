/**
 * How many wrong PINs in a row wipe the local data of the tablet (`Status.wipe_after`, set with
 * `set_wipe_after`). Fewer protects a lost or seized tablet sooner; more leaves room for typos
 * before records not yet sent are lost. The Rust side (`lock::check_max_attempts`) accepts 3 to
 * 20 and starts at 10, again after a wipe.
 */

/** The smallest limit the backend accepts. */
export const WIPE_AFTER_MIN = 3;
/** The largest limit the backend accepts. */
export const WIPE_AFTER_MAX = 20;
/** The limit of a new (or wiped) tablet. */
export const WIPE_AFTER_DEFAULT = 10;

/** Limits a worker can choose in Settings. */
export const WIPE_CHOICES = [3, 5, 10, 20] as const;

/**
 * The choices to show: {@link WIPE_CHOICES}, plus the current limit in its place when it is
 * another valid one (set before, or by a later version), so the current value is always shown
 * selected.
 */
export function wipeChoices(current: number | null | undefined): number[] {
  const choices: number[] = [...WIPE_CHOICES];
  if (
    typeof current === 'number' &&
    Number.isInteger(current) &&
    current >= WIPE_AFTER_MIN &&
    current <= WIPE_AFTER_MAX &&
    !choices.includes(current)
  ) {
    choices.push(current);
    choices.sort((a, b) => a - b);
  }
  return choices;
}

/** Why the backend refuses a limit (its `invalid` message), or `null` when it accepts it. */
export function wipeAfterRefusal(attempts: number): string | null {
  if (attempts >= WIPE_AFTER_MIN && attempts <= WIPE_AFTER_MAX) return null;
  return `the tablet is wiped after ${WIPE_AFTER_MIN} to ${WIPE_AFTER_MAX} wrong PINs`;
}
