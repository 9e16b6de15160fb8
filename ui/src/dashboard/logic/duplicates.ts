/**
 * The duplicate review's small decisions, as pure functions: which record of a pair is kept
 * (the server's suggestion or the other), and where two codes differ, so the page can mark the
 * slip ("MAIV287" / "MIAV287").
 */
import type { DuplicatePair, DuplicateReason, ReviewRecord } from '../api';

const REASONS = { same_code: true, near_code: true } satisfies Record<DuplicateReason, true>;
/** Every reason the server gives, strongest first. */
export const DUPLICATE_REASONS = Object.keys(REASONS) as DuplicateReason[];

/** A pair's identity, whichever record is kept. */
export function pairKey(pair: DuplicatePair): string {
  return [pair.keep.id, pair.merge.id].sort().join('|');
}

/**
 * The record kept and the one merged into it: the server's suggestion, unless `keepId` (the
 * coordinator's choice) names the other record.
 */
export function chosen(pair: DuplicatePair, keepId: string | undefined): { keep: ReviewRecord; merge: ReviewRecord } {
  return keepId === pair.merge.id ? { keep: pair.merge, merge: pair.keep } : { keep: pair.keep, merge: pair.merge };
}

/** A code cut in three: the start both codes share, the part that differs, the shared end. */
export interface CodeParts {
  head: string;
  middle: string;
  tail: string;
}

/**
 * Where two codes differ: the longest common start, then the longest common end of what is left;
 * what lies between is the slip (a changed, added or dropped letter, two swapped, the year).
 */
export function codeDifference(a: string, b: string): { a: CodeParts; b: CodeParts } {
  const x = Array.from(a);
  const y = Array.from(b);
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start += 1;
  let end = 0;
  while (end < x.length - start && end < y.length - start && x[x.length - 1 - end] === y[y.length - 1 - end]) end += 1;
  const cut = (chars: string[]): CodeParts => ({
    head: chars.slice(0, start).join(''),
    middle: chars.slice(start, chars.length - end).join(''),
    tail: chars.slice(chars.length - end).join(''),
  });
  return { a: cut(x), b: cut(y) };
}
