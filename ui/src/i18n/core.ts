/**
 * A tiny i18n core: nested JSON translation files flattened to dotted keys, `{name}`
 * placeholders, and `Intl` formatting. Pure functions; `index.svelte.ts` adds the reactive
 * current language.
 */
import type { Language } from '../lib/backend';

export type Dict = Readonly<Record<string, string>>;
export type Params = Readonly<Record<string, string | number>>;

/**
 * BCP 47 tags for `Intl`: British English for day-month order and the 24-hour clock; Serbian in
 * its Latin script.
 */
export const LOCALE_TAGS: Readonly<Record<Language, string>> = {
  en: 'en-GB',
  ru: 'ru-RU',
  uk: 'uk-UA',
  lt: 'lt-LT',
  'sr-Latn': 'sr-Latn-RS',
  sq: 'sq-AL',
  ka: 'ka-GE',
  ro: 'ro-RO',
};

/** The CLDR plural categories `Intl.PluralRules` chooses from. */
export const PLURAL_CATEGORIES = ['zero', 'one', 'two', 'few', 'many', 'other'] as const;
export type PluralCategory = (typeof PLURAL_CATEGORIES)[number];

/**
 * Whether a translation object is one text in its plural forms: every key a plural category, one
 * of them `other` (`{"one": "{count} site", "other": "{count} sites"}`).
 */
function isPluralForms(value: object): boolean {
  const keys = Object.keys(value);
  return keys.includes('other') && keys.every((k) => (PLURAL_CATEGORIES as readonly string[]).includes(k));
}

/**
 * Nested objects → `a.b.c` keys; a text in plural forms → `a.b#one`, `a.b#other`... Non-string
 * leaves are refused, so a typo cannot hide.
 */
export function flatten(tree: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) {
    throw new Error(`translation ${prefix || '(root)'} must be an object`);
  }
  const plural = prefix !== '' && isPluralForms(tree);
  for (const [key, value] of Object.entries(tree)) {
    const path = plural ? `${prefix}#${key}` : prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out[path] = value;
    else if (plural) throw new Error(`translation ${path} must be a text`);
    else Object.assign(out, flatten(value, path));
  }
  return out;
}

/** The plural categories a language's numbers need (`one`, `few`, `many`, `other` in Russian). */
export function pluralCategories(language: Language): PluralCategory[] {
  return new Intl.PluralRules(LOCALE_TAGS[language]).resolvedOptions().pluralCategories as PluralCategory[];
}

const PLACEHOLDER = /\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g;

/** The placeholder names in a template, sorted and without repeats. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))].sort();
}

/** Fills `{name}` placeholders; numbers are formatted for the locale; unknown names stay visible. */
export function interpolate(template: string, params: Params | undefined, locale: string): string {
  if (!params) return template;
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? new Intl.NumberFormat(locale).format(value) : value;
  });
}

/**
 * Looks a key up in the language, then in English, then shows the key itself. A text in plural
 * forms takes the form its `count` parameter needs.
 */
export function translate(
  dicts: Readonly<Record<Language, Dict>>,
  language: Language,
  key: string,
  params?: Params,
): string {
  if (typeof params?.count === 'number' && `${key}#other` in dicts.en) {
    return translatePlural(dicts, language, key, params.count, params);
  }
  const template = dicts[language][key] ?? dicts.en[key];
  if (template === undefined) return key;
  return interpolate(template, params, LOCALE_TAGS[language]);
}

/**
 * A text with a count in the plural form the language's rules choose for it (`{count}` is filled
 * in, formatted for the locale): the language's form, then its `other` form, then English's.
 */
export function translatePlural(
  dicts: Readonly<Record<Language, Dict>>,
  language: Language,
  key: string,
  count: number,
  params?: Params,
): string {
  const pick = (lang: Language): string | undefined => {
    const category = new Intl.PluralRules(LOCALE_TAGS[lang]).select(count);
    return dicts[lang][`${key}#${category}`] ?? dicts[lang][`${key}#other`];
  };
  const template = pick(language) ?? pick('en');
  if (template === undefined) return key;
  return interpolate(template, { ...params, count }, LOCALE_TAGS[language]);
}

/**
 * "5 minutes ago", "yesterday", "in 2 days", "3 months ago", ... in the language, or the
 * `justNow` text under a minute either way.
 */
export function relativeTime(thenMs: number, nowMs: number, locale: string, justNow: string): string {
  const seconds = Math.round((thenMs - nowMs) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return justNow;
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour');
  if (abs < 60 * 86_400) return rtf.format(Math.round(seconds / 86_400), 'day');
  if (abs < 730 * 86_400) return rtf.format(Math.round(seconds / (30.44 * 86_400)), 'month');
  return rtf.format(Math.round(seconds / (365.25 * 86_400)), 'year');
}
