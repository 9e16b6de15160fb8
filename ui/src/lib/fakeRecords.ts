/**
 * The records the fake backend keeps in memory, in the shapes the device store keeps them, and
 * the clock they are stamped with.
 */
import type { ContactDraft, ReferralStatus } from './backend';

/** As Rust's RFC 3339 clock: to the second. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface StoredContact extends ContactDraft {
  id: string;
  occurred_at: string;
  /** When the tablet recorded it: the edit window counts from here, not from `occurred_at`. */
  recorded_ms: number;
  lines: { commodity: string; quantity: number; reverses: boolean }[];
  /** The id of the overdose report record, while `overdose` holds one. */
  overdose_id?: string;
}

/** A referral record, as the store keeps it. */
export interface StoredReferral {
  id: string;
  contact_id: string | null;
  client_id: string | null;
  target: string;
  status: ReferralStatus;
  /** RFC 3339: when it was issued, then when its outcome was recorded. */
  status_at: string;
  site_id: string;
  deleted: boolean;
}

/** A test result record, as the store keeps it. */
export interface StoredTestResult {
  id: string;
  contact_id: string | null;
  client_id: string | null;
  test: string;
  result: string;
  linked_to_care: boolean;
  /** RFC 3339: when the person was linked to care (at the contact, or at the follow-up). */
  linked_at: string | null;
  /** RFC 3339: the time of its contact. */
  tested_at: string;
  site_id: string;
}
