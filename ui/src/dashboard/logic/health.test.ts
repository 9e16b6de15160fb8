import { describe, expect, it } from 'vitest';
import type { Device } from '../api';
import { DAY_MS, hasClockProblem, isStale, skewText, sortDevices, summarise, tokenState } from './health';

const NOW = Date.UTC(2026, 10, 20, 12);

function device(overrides: Partial<Device> = {}): Device {
  return {
    id: 'dev_1',
    name: 'Tablet',
    sites: ['Drop-in centre'],
    app_version: '0.3.1',
    enrolled_ms: NOW - 100 * DAY_MS,
    last_seen_ms: NOW - 3_600_000,
    revoked_ms: null,
    clock_skew_ms: 0,
    clamped_count: 0,
    token_expires_ms: NOW + 60 * DAY_MS,
    worker: null,
    manageable: true,
    unsent_ops: 0,
    ...overrides,
  };
}

describe('device health', () => {
  it('is stale after more than 7 days without sync, unless revoked', () => {
    expect(isStale(device({ last_seen_ms: NOW - 7 * DAY_MS }), NOW)).toBe(false);
    expect(isStale(device({ last_seen_ms: NOW - 7 * DAY_MS - 1 }), NOW)).toBe(true);
    expect(isStale(device({ last_seen_ms: NOW - 30 * DAY_MS, revoked_ms: NOW - DAY_MS }), NOW)).toBe(false);
  });

  it('flags clocks off by more than 5 minutes either way, or clamped stamps', () => {
    expect(hasClockProblem(device({ clock_skew_ms: 5 * 60_000 }))).toBe(false);
    expect(hasClockProblem(device({ clock_skew_ms: 5 * 60_000 + 1 }))).toBe(true);
    expect(hasClockProblem(device({ clock_skew_ms: -6 * 60_000 }))).toBe(true);
    expect(hasClockProblem(device({ clamped_count: 1 }))).toBe(true);
  });

  it('knows when the token expires', () => {
    expect(tokenState(device(), NOW)).toBe('ok');
    expect(tokenState(device({ token_expires_ms: NOW + 3 * DAY_MS }), NOW)).toBe('soon');
    expect(tokenState(device({ token_expires_ms: NOW - 1 }), NOW)).toBe('expired');
  });

  it('lists devices needing attention first and revoked ones last', () => {
    const list = [
      device({ id: 'revoked', revoked_ms: NOW }),
      device({ id: 'fine' }),
      device({ id: 'clock', clamped_count: 2 }),
      device({ id: 'stale', last_seen_ms: NOW - 9 * DAY_MS }),
    ];
    expect(sortDevices(list, NOW).map((d) => d.id)).toEqual(['stale', 'clock', 'fine', 'revoked']);
    expect(summarise(list, NOW)).toEqual({ total: 4, active: 3, stale: 1, clock: 1, revoked: 1 });
  });
});

describe('times', () => {
  it('say clock offsets with a sign', () => {
    // Unit words come from the ICU data of the runtime ("min" or "mins"): match the start.
    expect(skewText(7 * 60_000, 'en-GB')).toMatch(/^\+7 min/);
    expect(skewText(-45_000, 'en-GB')).toMatch(/^−45 sec/);
    expect(skewText(-3 * 3_600_000, 'en-GB')).toMatch(/^−3 h/);
    expect(skewText(0, 'en-GB')).toMatch(/^0 sec/);
    expect(skewText(8 * 60_000, 'ru-RU')).toMatch(/^\+8 мин/);
  });
});
