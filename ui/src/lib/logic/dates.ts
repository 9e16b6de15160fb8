/** Day boundaries in the tablet's time zone, sent to the backend as RFC 3339 UTC texts. */

export function startOfDay(day: Date): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate());
}

export function addDays(day: Date, days: number): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate() + days);
}

/** `[from, to)` of the local calendar day containing `day` (23 or 25 hours on DST days). */
export function dayRange(day: Date): { from: string; to: string } {
  const start = startOfDay(day);
  return { from: start.toISOString(), to: addDays(start, 1).toISOString() };
}

export function isSameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** A local calendar date as `YYYY-MM-DD` (for date inputs and expiry dates). */
export function isoDate(day: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day.getFullYear()}-${p(day.getMonth() + 1)}-${p(day.getDate())}`;
}

/** Whether `text` is a real calendar date `YYYY-MM-DD` between 2000 and 2100. */
export function isValidIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 2000 || y > 2100) return false;
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}
