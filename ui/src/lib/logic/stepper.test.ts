import { describe, expect, it } from 'vitest';
import { clampQuantity, MAX_QUANTITY, parseQuantity, quantityBounds, readQuantity, step } from './stepper';

describe('stepper bounds', () => {
  it('never goes below zero', () => {
    expect(step(0, -1)).toBe(0);
    expect(step(1, -5)).toBe(0);
    expect(clampQuantity(-3)).toBe(0);
  });

  it('never goes above 10 000', () => {
    expect(MAX_QUANTITY).toBe(10_000);
    expect(step(9_999, 1)).toBe(10_000);
    expect(step(10_000, 1)).toBe(10_000);
    expect(step(9_995, 100)).toBe(10_000);
    expect(clampQuantity(123_456)).toBe(10_000);
  });

  it('steps normally inside the bounds', () => {
    expect(step(2, 1)).toBe(3);
    expect(step(10, -1)).toBe(9);
    expect(step(0, 10)).toBe(10);
  });

  it('honours narrower bounds but never widens them', () => {
    expect(step(1, -1, 1, 5)).toBe(1);
    expect(step(5, 1, 1, 5)).toBe(5);
    expect(clampQuantity(-10, -50, 50)).toBe(0);
    expect(clampQuantity(20_000, 0, 50_000)).toBe(10_000);
  });

  it('widens only up to an explicit ceiling (stock counts)', () => {
    expect(clampQuantity(20_000, 0, 50_000, 100_000)).toBe(20_000);
    expect(clampQuantity(200_000, 0, 100_000, 100_000)).toBe(100_000);
    expect(step(99_990, 100, 0, 100_000, 100_000)).toBe(100_000);
    expect(parseQuantity('25 000', 0, 100_000, 100_000)).toBe(25_000);
    expect(parseQuantity('25 000', 0, 100_000)).toBe(10_000);
  });

  it('turns non-numbers and fractions into whole numbers in range', () => {
    expect(clampQuantity(Number.NaN)).toBe(0);
    expect(clampQuantity(Number.POSITIVE_INFINITY)).toBe(0);
    expect(clampQuantity(2.7)).toBe(2);
  });

  it('parses typed quantities strictly', () => {
    expect(parseQuantity('12')).toBe(12);
    expect(parseQuantity('10 000')).toBe(10_000);
    expect(parseQuantity('10\u00a0000')).toBe(10_000);
    expect(parseQuantity('99999')).toBe(10_000);
    expect(parseQuantity('-4')).toBeNull();
    expect(parseQuantity('4.5')).toBeNull();
    expect(parseQuantity('')).toBeNull();
    expect(parseQuantity('abc')).toBeNull();
  });
});

describe('typed quantities', () => {
  it('keep a number in range as typed', () => {
    expect(readQuantity('12', 0, 50)).toEqual({ value: 12, typed: 12, problem: null });
    expect(readQuantity('50', 0, 50)).toEqual({ value: 50, typed: 50, problem: null });
    expect(readQuantity('10 000')).toEqual({ value: 10_000, typed: 10_000, problem: null });
  });

  it('bring a number above the top down to it, and say so', () => {
    expect(readQuantity('60', 0, 50)).toEqual({ value: 50, typed: 60, problem: 'above' });
    expect(readQuantity('1234567')).toEqual({ value: 10_000, typed: 1_234_567, problem: 'above' });
    expect(readQuantity('20 000', 0, 50_000)).toMatchObject({ value: 10_000, problem: 'above' });
    expect(readQuantity('20 000', 0, 100_000, 100_000)).toMatchObject({ value: 20_000, problem: null });
  });

  it('bring a number below the bottom up to it, and say so', () => {
    expect(readQuantity('0', 1, 20)).toEqual({ value: 1, typed: 0, problem: 'below' });
  });

  it('refuse anything that is not a whole number, keeping nothing', () => {
    for (const text of ['', ' ', '-4', '4.5', '4,5', 'abc', '1e3']) {
      expect(readQuantity(text), JSON.stringify(text)).toEqual({ value: null, typed: null, problem: 'not_number' });
    }
  });

  it('share their bounds with the buttons', () => {
    expect(quantityBounds()).toEqual({ lo: 0, hi: 10_000 });
    expect(quantityBounds(1, 20)).toEqual({ lo: 1, hi: 20 });
    expect(quantityBounds(-5, 50_000)).toEqual({ lo: 0, hi: 10_000 });
    expect(quantityBounds(0, 100_000, 100_000)).toEqual({ lo: 0, hi: 100_000 });
  });
});
