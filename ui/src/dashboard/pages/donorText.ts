/**
 * The words around an indicator set's numbers, shared by the donor reports page and its
 * printable report: units, what was divided, targets and the period's name, in the reader's
 * language (the numbers' own names and definitions are the server's, in the donor's terms).
 */
import { format, locale, t } from '../../i18n/index.svelte';
import type { SetIndicator, Unit } from '../api';
import { findOption } from '../logic/donorReports';
import { DEFAULT_NSP_TARGET } from '../logic/numbers';
import { localDate, type Period } from '../logic/period';

/** Tables count the numerator: people, or items for a rate per person. */
export function tableUnit(unit: Unit): Unit {
  if (unit === 'percent') return 'people';
  if (unit === 'per_pwid_year') return 'items';
  return unit;
}

/** "people", "items", "per person per year" after the value (none for a percentage). */
export function unitText(indicator: SetIndicator): string {
  if (indicator.unit === 'percent' || indicator.value === null) return '';
  return t(`dashboard.unit.${indicator.unit}`, { count: indicator.value });
}

/** What was divided: "3 of 2,000" for a percentage, else numerator and denominator. */
export function ratioText(indicator: SetIndicator): string | null {
  if (indicator.numerator === undefined || indicator.denominator === undefined) return null;
  const numerator = format.number(indicator.numerator);
  const denominator = format.number(indicator.denominator);
  return indicator.unit === 'percent'
    ? t('dashboard.donor.of', { numerator, denominator })
    : t('dashboard.donor.ratio', { numerator, denominator });
}

export function targetText(indicator: SetIndicator): string {
  const target = indicator.target ?? DEFAULT_NSP_TARGET;
  return indicator.unit === 'per_pwid_year' ? t('dashboard.coverage.target', { target }) : t('dashboard.donor.target', { target });
}

/** "1 – 31 October 2026": the period's dates, in full. */
export function periodDates(period: Period): string {
  return new Intl.DateTimeFormat(locale(), { day: 'numeric', month: 'long', year: 'numeric' }).formatRange(
    localDate(period.from),
    localDate(period.to),
  );
}

/**
 * The period's name when it is one a donor reports on ("October 2026", "Q3 2026", "H1 2026",
 * "Fiscal year 2027, H1", "2026"), else null (dates chosen by hand).
 */
export function periodName(period: Period, today: string): string | null {
  const option = findOption(period, today);
  if (!option) return null;
  switch (option.kind) {
    case 'month': {
      // A name heads the line: "Октябрь 2026 г.", not "октябрь 2026 г.".
      const text = new Intl.DateTimeFormat(locale(), { month: 'long', year: 'numeric' }).format(localDate(option.from));
      return text.charAt(0).toLocaleUpperCase(locale()) + text.slice(1);
    }
    case 'quarter':
      return t('dashboard.donor_print.quarter', { n: option.index, year: String(option.year) });
    case 'half_year':
      // A US fiscal year is named after the year it ends in (FY2027: October 2026–September 2027).
      return option.fiscal
        ? t('dashboard.donor_print.fiscal_half', { n: option.index, year: option.end.slice(0, 4) })
        : t('dashboard.donor_print.half', { n: option.index, year: String(option.year) });
    case 'year':
      return String(option.year);
  }
}
