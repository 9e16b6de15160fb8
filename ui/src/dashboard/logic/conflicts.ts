/**
 * How a conflict's values are shown: short device ids, values of any JSON type as text, and the
 * open/resolved bookkeeping after a resolution. Pure functions.
 */
import type { Conflict } from '../api';

/** The first 8 characters of a device id (enough to tell devices apart in a list). */
export function shortId(id: string): string {
  const plain = id.replace(/^[a-z]+_/, '');
  // UUIDv7 and ULID-like ids start with their creation time, so ids made together share their
  // first characters: the last ones tell them apart.
  return plain.length > 8 ? plain.slice(-8) : plain;
}

export type ValueText = { kind: 'empty' } | { kind: 'text'; text: string } | { kind: 'codes'; codes: string[] };

const CODE = /^[a-z][a-z0-9_]*$/;

/**
 * A field value as text. Strings that look like codes (`street_outreach`, or a list of them)
 * come back as `codes` so the page can translate them; other lists are joined; objects are
 * written as JSON.
 */
export function valueText(value: unknown): ValueText {
  if (value === null || value === undefined || value === '') return { kind: 'empty' };
  if (typeof value === 'string') return CODE.test(value) ? { kind: 'codes', codes: [value] } : { kind: 'text', text: value };
  if (typeof value === 'number' || typeof value === 'boolean') return { kind: 'text', text: String(value) };
  if (Array.isArray(value) && value.length === 0) return { kind: 'empty' };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' && CODE.test(v))) return { kind: 'codes', codes: value };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return { kind: 'text', text: value.join(', ') };
  }
  return { kind: 'text', text: JSON.stringify(value) };
}

export function isOpen(conflict: Conflict): boolean {
  return conflict.resolved_ms === null;
}

/** The list after the server answered a resolution with the updated conflict. */
export function replaceConflict(list: readonly Conflict[], updated: Conflict): Conflict[] {
  return list.map((c) => (c.id === updated.id ? updated : c));
}

/** Open conflicts first (oldest first: they have waited longest), then resolved, newest first. */
export function sortConflicts(list: readonly Conflict[]): Conflict[] {
  return [...list].sort((a, b) => {
    if (isOpen(a) !== isOpen(b)) return isOpen(a) ? -1 : 1;
    return isOpen(a) ? a.detected_ms - b.detected_ms : (b.resolved_ms ?? 0) - (a.resolved_ms ?? 0);
  });
}

/** Where the labels of a field's codes are in the translation files (the tablet app's own). */
export const FIELD_VALUE_NAMESPACES: Readonly<Record<string, string>> = {
  gender: 'gender',
  setting: 'setting',
  services: 'service',
  key_groups: 'key_group',
  test: 'test',
  result: 'test_result',
  target: 'referral',
  status: 'dashboard.referral_status',
  outcome: 'dashboard.overdose_outcome',
};
