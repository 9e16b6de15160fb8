/**
 * What the sync bar says. The backend syncs in the background; the UI only reports its state.
 * Known error codes get a translated explanation (`sync.error.<code>`); any other error shows
 * the backend's own message.
 */
import type { Status, SyncProgress } from '../backend';

export const KNOWN_SYNC_ERRORS = ['offline', 'device_revoked', 'app_too_old', 'token_expired'] as const;
export type KnownSyncError = (typeof KNOWN_SYNC_ERRORS)[number];

export function isKnownSyncError(code: string): code is KnownSyncError {
  return (KNOWN_SYNC_ERRORS as readonly string[]).includes(code);
}

export type Tone = 'ok' | 'busy' | 'warn' | 'error';

export interface SyncSummary {
  tone: Tone;
  /** Translation key of the headline. */
  key: string;
  /** The backend's message, for errors without a translation of their own. */
  detail: string | null;
}

export function syncSummary(status: Pick<Status, 'sync_state' | 'sync_error' | 'pending' | 'rejected'>): SyncSummary {
  const error = status.sync_error;
  if (error) {
    if (isKnownSyncError(error.code)) {
      const tone: Tone = error.code === 'offline' ? 'warn' : 'error';
      return { tone, key: `sync.error.${error.code}`, detail: null };
    }
    return { tone: 'error', key: 'sync.error.other', detail: error.message };
  }
  switch (status.sync_state) {
    case 'syncing':
      return { tone: 'busy', key: 'sync.state.syncing', detail: null };
    case 'offline':
      return { tone: 'warn', key: 'sync.error.offline', detail: null };
    case 'error':
      return { tone: 'error', key: 'sync.error.other', detail: null };
    case 'idle':
      if (status.rejected > 0) return { tone: 'warn', key: 'sync.state.rejected', detail: null };
      return status.pending > 0
        ? { tone: 'ok', key: 'sync.state.pending', detail: null }
        : { tone: 'ok', key: 'sync.state.up_to_date', detail: null };
  }
}

/** Progress as a fraction 0–1 over both phases (push first, then pull), or null if unknown. */
export function progressFraction(progress: SyncProgress | null): number | null {
  if (!progress || progress.total <= 0) return null;
  const part = Math.min(1, Math.max(0, progress.done / progress.total));
  return progress.phase === 'push' ? part / 2 : 0.5 + part / 2;
}

/** Whether the error means the device must be enrolled again. */
export function needsReenrolment(code: string | undefined | null): boolean {
  return code === 'device_revoked' || code === 'token_expired';
}
