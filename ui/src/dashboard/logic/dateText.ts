/**
 * Dates typed and shown in the dashboard's language (06.12.2026 in Russian, 06/12/2026 in
 * British English, 2026-12-06 in Lithuanian) rather than the browser's own date picker, whose
 * format follows the browser and not the language the coordinator chose. The value kept is
 * always ISO (`2026-12-06`); ISO typed in any language is understood too.
 */

export type DatePart = 'day' | 'month' | 'year';

export interface DatePattern {
  /** The parts in the order the locale writes them. */
  order: DatePart[];
  /** What separates them ('.', '/', '-'). */
  separator: string;
  /** A trailing mark some locales write after the year (Serbian "6. 12. 2026."), or ''. */
  suffix: string;
}

const SAMPLE = new Date(Date.UTC(2026, 10, 23));

/** How `locale` writes a numeric date, read from `Intl` (two-digit day and month). */
export function datePattern(locale: string): DatePattern {
  const parts = new Intl.DateTimeFormat(locale, { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'UTC' }).formatToParts(SAMPLE);
  const order = parts.filter((p) => p.type === 'day' || p.type === 'month' || p.type === 'year').map((p) => p.type as DatePart);
  const literals = parts.filter((p) => p.type === 'literal');
  const separator = literals[0]?.value.trim() || '.';
  const last = parts[parts.length - 1];
  const suffix = last?.type === 'literal' ? last.value.trim() : '';
  return { order: order.length === 3 ? order : ['day', 'month', 'year'], separator, suffix };
}

/** What the field shows as its hint: `DD.MM.YYYY`, `DD/MM/YYYY`... in the locale's order. */
export function patternHint(pattern: DatePattern, letters: Record<DatePart, string> = { day: 'DD', month: 'MM', year: 'YYYY' }): string {
  return pattern.order.map((p) => letters[p]).join(pattern.separator) + pattern.suffix;
}

/** An ISO date written the locale's way, or '' for no date. */
export function formatDateText(iso: string, pattern: DatePattern): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return '';
  const value: Record<DatePart, string> = { year: m[1], month: m[2], day: m[3] };
  return pattern.order.map((p) => value[p]).join(pattern.separator) + pattern.suffix;
}

/**
 * A typed date read the locale's way (any of . / - or spaces between the parts, one- or
 * two-digit day and month, four-digit year), or as ISO; the ISO date, '' for an empty field, or
 * null when it is not a real date.
 */
export function parseDateText(text: string, pattern: DatePattern): string | null {
  const t = text.trim().replace(/\.$/, '');
  if (t === '') return '';
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t);
  const numbers = iso ? [iso[1], iso[2], iso[3]] : t.split(/\s*[./\-\s]\s*/);
  if (numbers.length !== 3 || numbers.some((n) => !/^\d+$/.test(n))) return null;
  const order: DatePart[] = iso ? ['year', 'month', 'day'] : pattern.order;
  const value = Object.fromEntries(order.map((p, i) => [p, Number(numbers[i])])) as Record<DatePart, number>;
  const yearText = numbers[order.indexOf('year')];
  if (yearText.length !== 4) return null;
  const date = new Date(Date.UTC(value.year, value.month - 1, value.day));
  if (date.getUTCFullYear() !== value.year || date.getUTCMonth() !== value.month - 1 || date.getUTCDate() !== value.day) return null;
  return `${String(value.year).padStart(4, '0')}-${String(value.month).padStart(2, '0')}-${String(value.day).padStart(2, '0')}`;
}
