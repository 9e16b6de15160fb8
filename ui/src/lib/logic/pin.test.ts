import { describe, expect, it } from 'vitest';
import { backspace, confirmPinProblem, isTooSimple, newPinProblem, pinShapeProblem, pressDigit } from './pin';

describe('PIN entry', () => {
  it('appends digits up to 8 and ignores anything else', () => {
    let pin = '';
    for (const d of '123456789') pin = pressDigit(pin, d);
    expect(pin).toBe('12345678');
    expect(pressDigit('12', 'a')).toBe('12');
    expect(pressDigit('12', '10')).toBe('12');
    expect(backspace('123')).toBe('12');
    expect(backspace('')).toBe('');
  });

  it('accepts 4 to 8 digits for unlocking', () => {
    expect(pinShapeProblem('')).toBe('too_short');
    expect(pinShapeProblem('123')).toBe('too_short');
    expect(pinShapeProblem('1234')).toBeNull();
    expect(pinShapeProblem('12345678')).toBeNull();
    expect(pinShapeProblem('123456789')).toBe('too_long');
    expect(pinShapeProblem('12a4')).toBe('not_digits');
  });

  it('refuses trivially guessable new PINs', () => {
    for (const pin of ['0000', '1111', '1234', '4321', '0123', '98765', '12345678']) {
      expect(isTooSimple(pin), pin).toBe(true);
      expect(newPinProblem(pin)).toBe('too_simple');
    }
    for (const pin of ['2580', '1357', '90210', '1212', '1233']) {
      expect(isTooSimple(pin), pin).toBe(false);
      expect(newPinProblem(pin)).toBeNull();
    }
  });

  it('requires the same PIN twice', () => {
    expect(confirmPinProblem('2580', '2580')).toBeNull();
    expect(confirmPinProblem('2580', '2581')).toBe('mismatch');
    expect(confirmPinProblem('258', '258')).toBe('too_short');
    expect(confirmPinProblem('1111', '1111')).toBe('too_simple');
  });
});
