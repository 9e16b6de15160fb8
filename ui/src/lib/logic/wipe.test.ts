import { describe, expect, it } from 'vitest';
import { exchanges, isAnswered, isRefused, refusalCode } from '../fixtures';
import { validWipeAfter, WIPE_AFTER_DEFAULT, WIPE_AFTER_MAX, WIPE_AFTER_MIN, WIPE_CHOICES, wipeChoices } from './wipe';

describe('wrong-PIN limit choices', () => {
  it('offers 3, 5, 10 and 20, the default among them, all within the backend limits', () => {
    expect(WIPE_CHOICES).toEqual([3, 5, 10, 20]);
    expect(WIPE_CHOICES).toContain(WIPE_AFTER_DEFAULT);
    for (const choice of WIPE_CHOICES) expect(validWipeAfter(choice), String(choice)).toBe(true);
    expect(wipeChoices(10)).toEqual([3, 5, 10, 20]);
    expect(wipeChoices(null)).toEqual([3, 5, 10, 20]);
    expect(wipeChoices(undefined)).toEqual([3, 5, 10, 20]);
  });

  it('shows another valid current limit in its place', () => {
    expect(wipeChoices(7)).toEqual([3, 5, 7, 10, 20]);
    expect(wipeChoices(4)).toEqual([3, 4, 5, 10, 20]);
    expect(wipeChoices(15)).toEqual([3, 5, 10, 15, 20]);
  });

  it('adds nothing the backend would not accept', () => {
    for (const bad of [0, WIPE_AFTER_MIN - 1, WIPE_AFTER_MAX + 1, 7.5, Number.NaN]) {
      expect(wipeChoices(bad), String(bad)).toEqual([3, 5, 10, 20]);
    }
  });

  it('takes what the backend took and refuses what it refused as out of range', () => {
    const calls = exchanges('set_wipe_after').filter((e) => typeof e.args.attempts === 'number');
    const taken = calls.filter(isAnswered).map((e) => e.args.attempts);
    const outOfRange = calls.filter((e) => isRefused(e) && refusalCode(e.error) === 'invalid').map((e) => e.args.attempts);
    expect(taken.length).toBeGreaterThan(0);
    expect(outOfRange.length).toBeGreaterThan(0);
    for (const attempts of taken) expect(validWipeAfter(attempts), String(attempts)).toBe(true);
    for (const attempts of outOfRange) expect(validWipeAfter(attempts), String(attempts)).toBe(false);
  });
});
