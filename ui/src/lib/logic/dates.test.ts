import { describe, expect, it } from 'vitest';
import { addDays, dayRange, isoDate, isSameDay, isValidIsoDate } from './dates';

describe('day ranges', () => {
  it('covers one local calendar day', () => {
    const day = new Date(2025, 10, 25, 15, 42);
    const { from, to } = dayRange(day);
    expect(new Date(from).getTime()).toBe(new Date(2025, 10, 25).getTime());
    expect(new Date(to).getTime()).toBe(new Date(2025, 10, 26).getTime());
    expect(from).toMatch(/Z$/);
  });

  it('moves by calendar days across month ends', () => {
    expect(isoDate(addDays(new Date(2025, 0, 31), 1))).toBe('2025-02-01');
    expect(isoDate(addDays(new Date(2025, 2, 1), -1))).toBe('2025-02-28');
    expect(isSameDay(new Date(2025, 1, 1, 0, 0), new Date(2025, 1, 1, 23, 59))).toBe(true);
    expect(isSameDay(new Date(2025, 1, 1), new Date(2025, 1, 2))).toBe(false);
  });

  it('validates expiry dates', () => {
    expect(isValidIsoDate('2027-03-31')).toBe(true);
    expect(isValidIsoDate('2028-02-29')).toBe(true);
    expect(isValidIsoDate('2027-02-29')).toBe(false);
    expect(isValidIsoDate('2027-13-01')).toBe(false);
    expect(isValidIsoDate('1999-12-31')).toBe(false);
    expect(isValidIsoDate('31.03.2027')).toBe(false);
  });
});
