/**
 * Device and sync health as the devices page shows it. Pure functions: "now" is a parameter.
 */
import type { Device } from '../api';

export const DAY_MS = 86_400_000;
/** A device that has not synced for longer than this is highlighted. */
export const STALE_AFTER_MS = 7 * DAY_MS;
/** A clock further off than this (either way) is flagged. */
export const SKEW_LIMIT_MS = 5 * 60_000;
/** A token expiring within this is flagged as "soon". */
export const TOKEN_SOON_MS = 14 * DAY_MS;

export function isRevoked(device: Device): boolean {
  return device.revoked_ms !== null;
}

export function isStale(device: Device, nowMs: number): boolean {
  return !isRevoked(device) && nowMs - device.last_seen_ms > STALE_AFTER_MS;
}

/** The clock is off by more than five minutes, or the server had to clamp its stamps. */
export function hasClockProblem(device: Device): boolean {
  return Math.abs(device.clock_skew_ms) > SKEW_LIMIT_MS || device.clamped_count > 0;
}

export type TokenState = 'ok' | 'soon' | 'expired';

export function tokenState(device: Device, nowMs: number): TokenState {
  if (device.token_expires_ms <= nowMs) return 'expired';
  if (device.token_expires_ms - nowMs <= TOKEN_SOON_MS) return 'soon';
  return 'ok';
}

/** Devices needing attention first (not synced for long, clock problems), revoked last. */
export function sortDevices(devices: readonly Device[], nowMs: number): Device[] {
  const rank = (d: Device) => (isRevoked(d) ? 3 : isStale(d, nowMs) ? 0 : hasClockProblem(d) ? 1 : 2);
  return [...devices].sort((a, b) => rank(a) - rank(b) || a.last_seen_ms - b.last_seen_ms || a.name.localeCompare(b.name));
}

export interface DeviceSummary {
  total: number;
  active: number;
  stale: number;
  clock: number;
  revoked: number;
}

export function summarise(devices: readonly Device[], nowMs: number): DeviceSummary {
  return {
    total: devices.length,
    active: devices.filter((d) => !isRevoked(d)).length,
    stale: devices.filter((d) => isStale(d, nowMs)).length,
    clock: devices.filter((d) => !isRevoked(d) && hasClockProblem(d)).length,
    revoked: devices.filter(isRevoked).length,
  };
}

/** A clock offset as signed whole minutes or seconds, e.g. "+7 min", "−45 s" (unit words come from Intl). */
export function skewText(skewMs: number, locale: string): string {
  const abs = Math.abs(skewMs);
  const sign = skewMs > 0 ? '+' : skewMs < 0 ? '−' : '';
  const asUnit = (n: number, unit: 'second' | 'minute' | 'hour' | 'day') =>
    sign + new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 0 }).format(n);
  if (abs < 60_000) return asUnit(Math.round(abs / 1000), 'second');
  if (abs < 3_600_000) return asUnit(Math.round(abs / 60_000), 'minute');
  if (abs < DAY_MS) return asUnit(Math.round(abs / 3_600_000), 'hour');
  return asUnit(Math.round(abs / DAY_MS), 'day');
}
