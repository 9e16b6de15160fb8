import { describe, expect, it } from 'vitest';
import { exchanges, isAnswered, isRefused, refusalCode } from '../fixtures';
import {
  backspace,
  confirmPinProblem,
  isTooSimple,
  NEW_PIN_MAX,
  NEW_PIN_MIN,
  newPinProblem,
  PIN_MAX,
  PIN_MIN,
  pinShapeProblem,
  pressDigit,
} from './pin';

describe('PIN entry', () => {
  it('uses the backend limits: 4 to 12 digits to unlock, 6 to 12 for a new PIN', () => {
    expect([PIN_MIN, PIN_MAX, NEW_PIN_MIN, NEW_PIN_MAX]).toEqual([4, 12, 6, 12]);
  });

  it('appends digits up to 12 and ignores anything else', () => {
    let pin = '';
    for (const d of '1234567890123') pin = pressDigit(pin, d);
    expect(pin).toBe('123456789012');
    expect(pressDigit('12', 'a')).toBe('12');
    expect(pressDigit('12', '10')).toBe('12');
    expect(backspace('123')).toBe('12');
    expect(backspace('')).toBe('');
  });

  it('accepts 4 to 12 digits for unlocking', () => {
    expect(pinShapeProblem('')).toBe('too_short');
    expect(pinShapeProblem('123')).toBe('too_short');
    expect(pinShapeProblem('1234')).toBeNull();
    expect(pinShapeProblem('12345678')).toBeNull();
    expect(pinShapeProblem('123456789012')).toBeNull();
    expect(pinShapeProblem('1234567890123')).toBe('too_long');
    expect(pinShapeProblem('12a4')).toBe('not_digits');
  });

  it('needs 6 to 12 digits for a new PIN, while 4 still unlock', () => {
    for (const pin of ['2580', '25804']) {
      expect(pinShapeProblem(pin), pin).toBeNull();
      expect(newPinProblem(pin), pin).toBe('too_short');
    }
    expect(newPinProblem('258046')).toBeNull();
    expect(newPinProblem('25804613')).toBeNull();
    expect(newPinProblem('258046139')).toBeNull();
    expect(newPinProblem('258046139027')).toBeNull();
    expect(newPinProblem('2580461390271')).toBe('too_long');
    expect(newPinProblem('2580a6')).toBe('not_digits');
  });

  it('refuses trivially guessable new PINs', () => {
    for (const pin of ['000000', '111111', '123456', '654321', '012345', '9876543', '12345678']) {
      expect(isTooSimple(pin), pin).toBe(true);
      expect(newPinProblem(pin)).toBe('too_simple');
    }
    for (const pin of ['258046', '135790', '902101', '121212', '123356', '890123']) {
      expect(isTooSimple(pin), pin).toBe(false);
      expect(newPinProblem(pin)).toBeNull();
    }
  });

  it('refuses the new PINs the backend refused, and takes the one it took', () => {
    // Every recorded set_pin with a worker's name, after enrolment: refused for the PIN itself
    // (`invalid`), or taken.
    const tried = exchanges('set_pin').filter(
      (e) => typeof e.args.worker === 'string' && e.args.worker.trim() !== '' && (isAnswered(e) || refusalCode(e.error) === 'invalid'),
    );
    expect(tried.filter(isRefused).length).toBeGreaterThan(3);
    for (const e of tried) {
      const pin = e.args.pin as string;
      if (isAnswered(e)) expect(newPinProblem(pin), pin).toBeNull();
      else expect(newPinProblem(pin), pin).not.toBeNull();
    }
  });

  it('requires the same PIN twice', () => {
    expect(confirmPinProblem('258046', '258046')).toBeNull();
    expect(confirmPinProblem('258046', '258047')).toBe('mismatch');
    expect(confirmPinProblem('2580', '2580')).toBe('too_short');
    expect(confirmPinProblem('111111', '111111')).toBe('too_simple');
  });
});
