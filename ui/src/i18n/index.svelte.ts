/**
 * The translation function used by every component. `t()` reads the current language from a
 * rune, so text re-renders when the language changes.
 */
import { isLanguage, type Language } from '../lib/backend';
import { flatten, LOCALE_TAGS, relativeTime, translate, type Dict, type Params } from './core';
import en from './en.json';
import ka from './ka.json';
import lt from './lt.json';
import ro from './ro.json';
import ru from './ru.json';
import sq from './sq.json';
import srLatn from './sr-Latn.json';
import uk from './uk.json';

export const DICTS: Readonly<Record<Language, Dict>> = {
  en: flatten(en),
  ru: flatten(ru),
  uk: flatten(uk),
  lt: flatten(lt),
  'sr-Latn': flatten(srLatn),
  sq: flatten(sq),
  ka: flatten(ka),
  ro: flatten(ro),
};

const current = $state<{ language: Language }>({ language: 'en' });

export function language(): Language {
  return current.language;
}

/** Switches to `language` when the UI speaks it (the status gives the backend's language as text). */
export function setLanguage(language: string): void {
  if (isLanguage(language)) current.language = language;
}

export function locale(): string {
  return LOCALE_TAGS[current.language];
}

/** The text of `key` in the current language; with a numeric `count`, in its plural form. */
export function t(key: string, params?: Params): string {
  return translate(DICTS, current.language, key, params);
}

/** Whether a key exists (for data with optional translations, e.g. catalogue names). */
export function has(key: string): boolean {
  return key in DICTS[current.language] || key in DICTS.en || `${key}#other` in DICTS.en;
}

/** A label for a value from the server: the translation if there is one, else the server's text. */
export function labelOr(key: string, fallback: string): string {
  return has(key) ? t(key) : fallback;
}

export const format = {
  number(n: number): string {
    return new Intl.NumberFormat(locale()).format(n);
  },
  /** With its sign, for a change: `+5`, `-5`, `0`. */
  signed(n: number): string {
    return new Intl.NumberFormat(locale(), { signDisplay: 'exceptZero' }).format(n);
  },
  date(d: Date | string | number): string {
    return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(d));
  },
  weekdayDate(d: Date | string | number): string {
    return new Intl.DateTimeFormat(locale(), { weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(d));
  },
  time(d: Date | string | number): string {
    return new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(new Date(d));
  },
  dateTime(d: Date | string | number): string {
    return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d));
  },
  relative(thenMs: number, nowMs: number = Date.now()): string {
    return relativeTime(thenMs, nowMs, locale(), t('time.just_now'));
  },
  seconds(ms: number): string {
    return new Intl.NumberFormat(locale(), { style: 'unit', unit: 'second', unitDisplay: 'long' }).format(Math.ceil(ms / 1000));
  },
  minutes(n: number): string {
    return new Intl.NumberFormat(locale(), { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(n);
  },
};
