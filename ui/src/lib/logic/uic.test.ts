import { describe, expect, it } from 'vitest';
import {
  birthYearFromAnswers,
  birthYearReady,
  cleanAnswers,
  DEFAULT_UIC_QUESTIONS,
  normaliseTypedCode,
  schemeAsksBirthYear,
} from './uic';

describe('client codes', () => {
  it('normalises a typed code to a search prefix', () => {
    expect(normaliseTypedCode(' maiv 287 ')).toBe('MAIV287');
    expect(normaliseTypedCode('ma-iv')).toBe('MAIV');
    expect(normaliseTypedCode('маив')).toBe('МАИВ');
  });

  it('leaves blank answers out of build_uic', () => {
    expect(cleanAnswers({ mother_first_name: ' Maria ', father_first_name: '  ', birth_year: '' })).toEqual({
      mother_first_name: 'Maria',
    });
    expect(cleanAnswers({ sex: '2', birth_year: '1987' })).toEqual({ sex: '2', birth_year: '1987' });
  });

  it('waits for four digits of the birth year', () => {
    expect(birthYearReady('')).toBe(true);
    expect(birthYearReady('19')).toBe(false);
    expect(birthYearReady('1987')).toBe(true);
  });
});

describe('the year of birth in the code questions', () => {
  it('is handed on only when it is four digits', () => {
    expect(birthYearFromAnswers({ birth_year: ' 1987 ' })).toBe(1987);
    expect(birthYearFromAnswers({ birth_year: '' })).toBeNull();
    expect(birthYearFromAnswers({ birth_year: '87' })).toBeNull();
    expect(birthYearFromAnswers({ mother_first_name: 'Maria' })).toBeNull();
  });

  it('is asked by the default scheme, so the client form does not ask it again', () => {
    expect(schemeAsksBirthYear(DEFAULT_UIC_QUESTIONS)).toBe(true);
    expect(schemeAsksBirthYear(['mother_first_name', 'father_first_name', 'sex'])).toBe(false);
  });
});
