import { describe, expect, it } from 'vitest';
import type { UicQuestion } from '../backend';
import {
  answersReady,
  BIRTH_DAYS,
  birthYearFromAnswers,
  birthYearReady,
  cleanAnswers,
  DEFAULT_UIC_QUESTIONS,
  fallbackQuestionLabel,
  normaliseTypedCode,
  schemeAsksBirthYear,
  schemeQuestions,
} from './uic';

const SURNAME_DAY_YEAR: UicQuestion[] = [
  { question: 'surname', kind: 'letters' },
  { question: 'sex', kind: 'sex' },
  { question: 'birth_day', kind: 'birth_day' },
  { question: 'birth_year', kind: 'birth_year' },
];

describe('client codes', () => {
  it('normalises a typed code to a search prefix', () => {
    expect(normaliseTypedCode(' maiv 287 ')).toBe('MAIV287');
    expect(normaliseTypedCode('ma-iv')).toBe('MAIV');
    expect(normaliseTypedCode('маив')).toBe('МАИВ');
  });

  it('sends only the scheme\'s questions to build_uic, blank answers left out', () => {
    expect(
      cleanAnswers(DEFAULT_UIC_QUESTIONS, { mother_first_name: ' Maria ', father_first_name: '  ', birth_year: '' }),
    ).toEqual({ mother_first_name: 'Maria' });
    expect(cleanAnswers(DEFAULT_UIC_QUESTIONS, { sex: '2', birth_year: '1987' })).toEqual({ sex: '2', birth_year: '1987' });
    // An answer to a question the scheme does not ask (left from another scheme) stays home.
    expect(cleanAnswers(SURNAME_DAY_YEAR, { surname: 'Petrova', mother_first_name: 'Maria', birth_day: '7' })).toEqual({
      surname: 'Petrova',
      birth_day: '7',
    });
  });

  it('waits for four digits of the birth year', () => {
    expect(birthYearReady('')).toBe(true);
    expect(birthYearReady(undefined)).toBe(true);
    expect(birthYearReady('19')).toBe(false);
    expect(birthYearReady('1987')).toBe(true);
    expect(answersReady(SURNAME_DAY_YEAR, { birth_year: '198' })).toBe(false);
    expect(answersReady(SURNAME_DAY_YEAR, { birth_year: '1987', birth_day: '31' })).toBe(true);
  });

  it('offers the days 1 to 31', () => {
    expect(BIRTH_DAYS).toHaveLength(31);
    expect([BIRTH_DAYS[0], BIRTH_DAYS[30]]).toEqual(['1', '31']);
  });
});

describe('the scheme the builder asks', () => {
  it('is the one in the status, or the default scheme while the status lists none', () => {
    expect(schemeQuestions({ uic_questions: SURNAME_DAY_YEAR })).toEqual(SURNAME_DAY_YEAR);
    expect(schemeQuestions({ uic_questions: [] })).toBe(DEFAULT_UIC_QUESTIONS);
    expect(schemeQuestions(null)).toBe(DEFAULT_UIC_QUESTIONS);
    expect(DEFAULT_UIC_QUESTIONS.map((q) => `${q.question}:${q.kind}`)).toEqual([
      'mother_first_name:letters',
      'father_first_name:letters',
      'sex:sex',
      'birth_year:birth_year',
    ]);
  });

  it('asks a kind this app does not know as a word', () => {
    const status = { uic_questions: [{ question: 'birth_month', kind: 'month' as UicQuestion['kind'] }] };
    expect(schemeQuestions(status)).toEqual([{ question: 'birth_month', kind: 'letters' }]);
  });

  it('labels an unknown question with its name, underscores as spaces', () => {
    expect(fallbackQuestionLabel('favourite_colour')).toBe('Favourite colour');
    expect(fallbackQuestionLabel('first__pet_name_')).toBe('First pet name');
    expect(fallbackQuestionLabel('district')).toBe('District');
  });
});

describe('the year of birth in the code questions', () => {
  it('is handed on only when it is four digits', () => {
    expect(birthYearFromAnswers(DEFAULT_UIC_QUESTIONS, { birth_year: ' 1987 ' })).toBe(1987);
    expect(birthYearFromAnswers(DEFAULT_UIC_QUESTIONS, { birth_year: '' })).toBeNull();
    expect(birthYearFromAnswers(DEFAULT_UIC_QUESTIONS, { birth_year: '87' })).toBeNull();
    expect(birthYearFromAnswers(DEFAULT_UIC_QUESTIONS, { mother_first_name: 'Maria' })).toBeNull();
  });

  it('is found by its kind, whatever a custom scheme calls it', () => {
    const custom: UicQuestion[] = [{ question: 'year_born', kind: 'birth_year' }];
    expect(birthYearFromAnswers(custom, { year_born: '1990' })).toBe(1990);
    expect(schemeAsksBirthYear(custom)).toBe(true);
  });

  it('is asked by the default scheme, so the client form does not ask it again', () => {
    expect(schemeAsksBirthYear(DEFAULT_UIC_QUESTIONS)).toBe(true);
    expect(schemeAsksBirthYear(DEFAULT_UIC_QUESTIONS.filter((q) => q.kind !== 'birth_year'))).toBe(false);
  });
});
