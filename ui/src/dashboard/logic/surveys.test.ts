import { describe, expect, it } from 'vitest';
import { surveyRows } from './surveys';

describe('survey results', () => {
  it('follow the questionnaire order and list every option, answered or not', () => {
    const rows = surveyRows(
      [
        { id: 'q4', answers: [{ value: 'yes', count: 8 }] },
        { id: 'q1', answers: [{ value: 'well', count: 3 }, { value: 'very_well', count: 7 }] },
      ],
      10,
    );
    expect(rows.map((q) => q.id)).toEqual(['q1', 'q4']);
    expect(rows[0].rows.map((r) => [r.value, r.count])).toEqual([
      ['very_badly', 0],
      ['badly', 0],
      ['neither_well_nor_badly', 0],
      ['well', 3],
      ['very_well', 7],
    ]);
    expect(rows[0].answered).toBe(10);
    expect(rows[0].rows[4].fraction).toBe(0.7);
  });

  it('mark multiple-choice questions and follow-ups, and keep unknown answers after the known ones', () => {
    const rows = surveyRows(
      [
        { id: 'q7', answers: [{ value: 'ost', count: 2 }, { value: 'needle_exchange_at_night', count: 4 }] },
        { id: 'q2_missing', answers: [{ value: 'naloxone', count: 1 }] },
        { id: 'q99', answers: [{ value: 'a', count: 1 }, { value: 'b', count: 3 }] },
      ],
      5,
    );
    expect(rows.map((q) => [q.id, q.multiple])).toEqual([
      ['q2_missing', true],
      ['q7', true],
      ['q99', false],
    ]);
    expect(rows[1].rows.at(-1)).toEqual({ value: 'needle_exchange_at_night', count: 4, fraction: 0.8 });
    expect(rows[2].rows.map((r) => r.value)).toEqual(['b', 'a']);
  });

  it('give no shares without responses', () => {
    expect(surveyRows([{ id: 'q1', answers: [] }], 0)[0].rows.every((r) => r.fraction === 0)).toBe(true);
  });
});
