import { describe, expect, it } from 'vitest';
import { datePattern, formatDateText, parseDateText, patternHint } from './dateText';

describe('dates in the dashboard language', () => {
  it("reads each language's numeric date order and separator", () => {
    expect(patternHint(datePattern('en-GB'))).toBe('DD/MM/YYYY');
    expect(patternHint(datePattern('ru-RU'))).toBe('DD.MM.YYYY');
    expect(patternHint(datePattern('lt-LT'))).toBe('YYYY-MM-DD');
    expect(datePattern('ka-GE').order).toEqual(['day', 'month', 'year']);
  });

  it('shows an ISO date the way the language writes it', () => {
    expect(formatDateText('2026-12-06', datePattern('en-GB'))).toBe('06/12/2026');
    expect(formatDateText('2026-12-06', datePattern('ru-RU'))).toBe('06.12.2026');
    expect(formatDateText('2026-12-06', datePattern('lt-LT'))).toBe('2026-12-06');
    expect(formatDateText('', datePattern('ru-RU'))).toBe('');
  });

  it('reads what a coordinator types, in the language or as ISO, and refuses what is not a date', () => {
    const ru = datePattern('ru-RU');
    expect(parseDateText('06.12.2026', ru)).toBe('2026-12-06');
    expect(parseDateText('6.12.2026', ru)).toBe('2026-12-06');
    expect(parseDateText('6/12/2026', ru)).toBe('2026-12-06');
    expect(parseDateText('2026-12-06', ru)).toBe('2026-12-06');
    expect(parseDateText(' ', ru)).toBe('');
    expect(parseDateText('31.02.2026', ru)).toBeNull();
    expect(parseDateText('06.12.26', ru)).toBeNull();
    expect(parseDateText('yesterday', ru)).toBeNull();
    expect(parseDateText('06/12/2026', datePattern('en-GB'))).toBe('2026-12-06');
    const sr = datePattern('sr-Latn-RS');
    expect(parseDateText(formatDateText('2026-12-06', sr), sr)).toBe('2026-12-06');
  });
});
