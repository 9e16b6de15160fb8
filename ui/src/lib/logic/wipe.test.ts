import { describe, expect, it } from 'vitest';
import { WIPE_AFTER_DEFAULT, WIPE_CHOICES, wipeAfterRefusal, wipeChoices } from './wipe';

describe('wrong-PIN limit choices', () => {
  it('offers 3, 5, 10 and 20, the default among them', () => {
    expect(WIPE_CHOICES).toEqual([3, 5, 10, 20]);
    expect(WIPE_CHOICES).toContain(WIPE_AFTER_DEFAULT);
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
    for (const bad of [0, 2, 21, 7.5, Number.NaN]) expect(wipeChoices(bad), String(bad)).toEqual([3, 5, 10, 20]);
  });

  it('refuses limits outside 3 to 20 with the backend message', () => {
    expect(wipeAfterRefusal(3)).toBeNull();
    expect(wipeAfterRefusal(20)).toBeNull();
    expect(wipeAfterRefusal(2)).toBe('the tablet is wiped after 3 to 20 wrong PINs');
    expect(wipeAfterRefusal(21)).toBe('the tablet is wiped after 3 to 20 wrong PINs');
  });
});
