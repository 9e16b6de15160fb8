import { describe, expect, it } from 'vitest';
import { answerKeys, answeredCount, normaliseSurvey, showFollowUp, SURVEY } from './survey';

describe('survey questionnaire', () => {
  it('has the 8 questions of the default survey with q1..q8 ids', () => {
    expect(SURVEY.map((q) => q.id)).toEqual(['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'q8']);
    expect(answerKeys()).toEqual(['q1', 'q2', 'q2_missing', 'q3', 'q4', 'q5', 'q6', 'q7', 'q8']);
  });

  it('offers "don\'t know" or "not sure", and "rather not say", on yes/no questions', () => {
    for (const id of ['q2', 'q4', 'q6']) {
      const q = SURVEY.find((s) => s.id === id)!;
      expect(q.kind).toBe('single');
      if (q.kind !== 'single') continue;
      expect(q.options).toContain('yes');
      expect(q.options).toContain('rather_not_say');
      expect(q.options.includes('dont_know') || q.options.includes('not_sure')).toBe(true);
    }
  });

  it('uses snake_case answer codes only', () => {
    for (const q of SURVEY) {
      if (q.kind === 'text') continue;
      for (const o of q.options) expect(o).toMatch(/^[a-z0-9_]{1,64}$/);
    }
  });
});

describe('survey answer normalisation', () => {
  it('turns an entirely skipped survey into nulls for every key', () => {
    const out = normaliseSurvey({});
    expect(Object.keys(out)).toEqual(answerKeys());
    expect(Object.values(out).every((v) => v === null)).toBe(true);
    expect(answeredCount(out)).toBe(0);
  });

  it('keeps valid answers and nulls skipped ones', () => {
    const out = normaliseSurvey({ q1: 'well', q3: undefined, q5: 'under_5_min', q7: ['shelter', 'ost'] });
    expect(out.q1).toBe('well');
    expect(out.q3).toBeNull();
    expect(out.q5).toBe('under_5_min');
    expect(out.q7).toEqual(['ost', 'shelter']);
    expect(answeredCount(out)).toBe(3);
  });

  it('drops unknown codes instead of sending them', () => {
    const out = normaliseSurvey({ q1: 'brilliant', q7: ['teleport'], q4: ['yes'] as unknown as string });
    expect(out.q1).toBeNull();
    expect(out.q7).toBeNull();
    expect(out.q4).toBeNull();
  });

  it('keeps the "what was missing" follow-up only when q2 is partly or no', () => {
    expect(normaliseSurvey({ q2: 'no', q2_missing: ['naloxone', 'syringes_needles'] }).q2_missing).toEqual([
      'syringes_needles',
      'naloxone',
    ]);
    expect(normaliseSurvey({ q2: 'yes', q2_missing: ['naloxone'] }).q2_missing).toBeNull();
    expect(normaliseSurvey({ q2_missing: ['naloxone'] }).q2_missing).toBeNull();
    expect(showFollowUp(SURVEY[1], { q2: 'partly' })).toBe(true);
    expect(showFollowUp(SURVEY[1], { q2: 'yes' })).toBe(false);
    expect(showFollowUp(SURVEY[0], { q1: 'well' })).toBe(false);
  });

  it('trims the free text and treats blank text as skipped', () => {
    expect(normaliseSurvey({ q8: '  longer hours  ' }).q8).toBe('longer hours');
    expect(normaliseSurvey({ q8: '   \n ' }).q8).toBeNull();
    expect((normaliseSurvey({ q8: 'x'.repeat(5000) }).q8 as string).length).toBe(1000);
  });
});
