import { describe, expect, it } from 'vitest';
import type { Status } from '../backend';
import { needsReenrolment, progressFraction, syncSummary } from './sync';

type S = Pick<Status, 'sync_state' | 'sync_error' | 'pending' | 'rejected'>;
const base: S = { sync_state: 'idle', sync_error: null, pending: 0, rejected: 0 };

describe('sync status', () => {
  it('explains the known error codes in the worker\'s language', () => {
    for (const code of ['offline', 'device_revoked', 'app_too_old', 'token_expired']) {
      const s = syncSummary({ ...base, sync_state: 'error', sync_error: { code, message: 'x' } });
      expect(s.key).toBe(`sync.error.${code}`);
      expect(s.detail).toBeNull();
    }
    expect(syncSummary({ ...base, sync_error: { code: 'offline', message: '' } }).tone).toBe('warn');
    expect(syncSummary({ ...base, sync_error: { code: 'device_revoked', message: '' } }).tone).toBe('error');
  });

  it('shows the backend message for other errors', () => {
    const s = syncSummary({ ...base, sync_state: 'error', sync_error: { code: 'storage_full', message: 'Server disk full' } });
    expect(s).toEqual({ tone: 'error', key: 'sync.error.other', detail: 'Server disk full' });
  });

  it('reports pending, refused and up-to-date states', () => {
    expect(syncSummary(base).key).toBe('sync.state.up_to_date');
    expect(syncSummary({ ...base, pending: 3 }).key).toBe('sync.state.pending');
    expect(syncSummary({ ...base, pending: 3, rejected: 1 }).key).toBe('sync.state.rejected');
    expect(syncSummary({ ...base, sync_state: 'syncing' }).tone).toBe('busy');
    expect(syncSummary({ ...base, sync_state: 'offline' }).key).toBe('sync.error.offline');
  });

  it('turns progress events into one bar over push and pull', () => {
    expect(progressFraction(null)).toBeNull();
    expect(progressFraction({ phase: 'push', done: 0, total: 0 })).toBeNull();
    expect(progressFraction({ phase: 'push', done: 50, total: 100 })).toBe(0.25);
    expect(progressFraction({ phase: 'pull', done: 100, total: 100 })).toBe(1);
    expect(progressFraction({ phase: 'pull', done: 500, total: 100 })).toBe(1);
  });

  it('knows which errors need a new enrolment', () => {
    expect(needsReenrolment('device_revoked')).toBe(true);
    expect(needsReenrolment('token_expired')).toBe(true);
    expect(needsReenrolment('offline')).toBe(false);
    expect(needsReenrolment(null)).toBe(false);
  });
});
