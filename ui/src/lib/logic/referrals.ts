/**
 * Referral follow-up: the open referrals a worker asks about, and what one tap changes in the
 * list. The backend owns the data; these helpers only keep the list on screen consistent with it
 * between two reads.
 */
import type { OpenReferral } from '../backend';

/** The list once a referral got its outcome: that row leaves (it is no longer open). */
export function withoutReferral(list: readonly OpenReferral[], id: string): OpenReferral[] {
  return list.filter((r) => r.id !== id);
}

/**
 * A referral target's words when the app has no translation for it (a target added on the
 * server later): underscores as spaces.
 */
export function targetFallback(target: string): string {
  return target.replace(/_+/g, ' ').trim() || target;
}
