import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GENDERS,
  KEY_GROUPS,
  LANGUAGES,
  OVERDOSE_OUTCOMES,
  REFERRAL_OUTCOMES,
  REFERRAL_TARGETS,
  SERVICES,
  SETTINGS,
  STOCK_KINDS,
  TALLY_AGE_BANDS,
  TALLY_GENDERS,
  TEST_RESULTS,
  TESTS,
  type Language,
  ANSWER_PROBLEM_CODES,
} from '../lib/backend';
import { RECORDED_COMMODITIES, RECORDED_KITS } from '../lib/fakeBackend';
import { KNOWN_SYNC_ERRORS } from '../lib/logic/sync';
import { OVERDOSE_PROBLEMS } from '../lib/logic/contact';
import { BUILT_IN_QUESTIONS } from '../lib/logic/uic';
import { SCREENS } from '../lib/session.svelte';
import { flatten, interpolate, LOCALE_TAGS, pluralCategories, placeholders, relativeTime, translate } from './core';
import { DICTS as dicts } from './index.svelte';

/** A plural form's key (`a.b#few`) → its text's key (`a.b`). */
const baseKey = (key: string): string => key.split('#')[0];
/** The keys of texts, each once: plural forms count as one text. */
const textKeys = (lang: Language): string[] => [...new Set(Object.keys(dicts[lang]).map(baseKey))].sort();
const enKeys = textKeys('en');
/** Per language, each text's templates: its plural forms, or the text itself. */
const TEMPLATES = Object.fromEntries(
  LANGUAGES.map((lang) => {
    const byKey = new Map<string, string[]>();
    for (const [k, v] of Object.entries(dicts[lang])) byKey.set(baseKey(k), [...(byKey.get(baseKey(k)) ?? []), v]);
    return [lang, byKey];
  }),
) as Record<Language, Map<string, string[]>>;
const templates = (lang: Language, key: string): string[] => TEMPLATES[lang].get(key) ?? [];
const PLURAL_KEYS = enKeys.filter((k) => `${k}#other` in dicts.en);

/** Keys whose text is rightly the same in every language (names of languages, examples, numbers). */
const SAME_EVERYWHERE = new Set([
  'app.name',
  'dashboard.surveys.small',
  ...LANGUAGES.map((l) => `language.${l}`),
  ...['day', 'month', 'year'].map((p) => `dashboard.date_letters.${p}`),
  'dashboard.conflicts.device_worker',
  'dashboard.duplicates.code_at',
  'enrol.server_placeholder',
  'enrol.code_placeholder',
  'quicklog.code_placeholder',
  'uic.birth_year_placeholder',
  'items.line',
  'age_band.15_19',
  'age_band.20_24',
  'age_band.25_49',
  ...['25_29', '30_34', '35_39', '40_44', '45_49'].map((b) => `dashboard.row.age_band_5.${b}`),
  'age_band.50_plus',
  // DHIS2 is its name everywhere; an address and ADX's period as DHIS2 writes them.
  'dashboard.page.dhis2',
  'dashboard.dhis2.url_placeholder',
  'dashboard.dhis2.adx_period',
]);

/** The script each language is written in. */
const SCRIPT: Record<Language, string> = {
  en: 'Latin',
  ru: 'Cyrillic',
  uk: 'Cyrillic',
  lt: 'Latin',
  'sr-Latn': 'Latin',
  sq: 'Latin',
  ka: 'Georgian',
  ro: 'Latin',
};

describe('translation files', () => {
  it('have the same keys in every language', () => {
    for (const lang of LANGUAGES) expect(textKeys(lang), lang).toEqual(enKeys);
  });

  it('give each text with a count exactly the plural forms its language needs', () => {
    expect(PLURAL_KEYS.length).toBeGreaterThanOrEqual(8);
    for (const lang of LANGUAGES) {
      const needed = [...pluralCategories(lang)].sort();
      for (const key of PLURAL_KEYS) {
        const forms = Object.keys(dicts[lang])
          .filter((k) => k.startsWith(`${key}#`))
          .map((k) => k.split('#')[1])
          .sort();
        expect(forms, `${lang} ${key}`).toEqual(needed);
      }
    }
  });

  it('speak every language the app offers, with a locale for dates and numbers', () => {
    for (const lang of LANGUAGES) {
      expect(dicts[lang], lang).toBeDefined();
      expect(Intl.DateTimeFormat.supportedLocalesOf([LOCALE_TAGS[lang]]), lang).toHaveLength(1);
    }
  });

  it('have no empty texts', () => {
    for (const lang of LANGUAGES) {
      for (const [key, text] of Object.entries(dicts[lang])) expect(text.trim(), `${lang} ${key}`).not.toBe('');
    }
  });

  it('use the same placeholders in every language', () => {
    for (const key of enKeys) {
      const expected = placeholders(templates('en', key).join(' '));
      for (const lang of LANGUAGES) {
        for (const template of templates(lang, key)) expect(placeholders(template), `${lang} ${key}`).toEqual(expected);
      }
    }
  });

  it('are really translated (no English left)', () => {
    for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
      const untranslated = enKeys.filter(
        (k) => templates(lang, k).join() === templates('en', k).join() && !SAME_EVERYWHERE.has(k),
      );
      // A few words are rightly the same in Latin-script languages (e.g. "Total", "Status").
      expect(untranslated.length, `${lang}: ${untranslated.join(', ')}`).toBeLessThanOrEqual(SCRIPT[lang] === 'Latin' ? 25 : 0);
    }
    for (const lang of LANGUAGES.filter((l) => SCRIPT[l] !== 'Latin')) {
      const script = new RegExp(`\\p{Script=${SCRIPT[lang]}}`, 'u');
      const latinOnly = enKeys.filter((k) => !SAME_EVERYWHERE.has(k) && /[a-z]{4,}/i.test(dicts[lang][k] ?? '') && !script.test(dicts[lang][k] ?? ''));
      expect(latinOnly, lang).toEqual([]);
    }
  });

  it("write each Latin-script language with its own letters", () => {
    const letters: Partial<Record<Language, RegExp>> = { lt: /[ąčęėįšųūž]/, 'sr-Latn': /[čćđšž]/, sq: /[ëç]/, ro: /[ăâîșț]/ };
    for (const [lang, re] of Object.entries(letters) as [Language, RegExp][]) {
      const withLetters = enKeys.filter((k) => re.test(templates(lang, k).join()));
      expect(withLetters.length, lang).toBeGreaterThan(enKeys.length / 4);
      // Romanian is written with the comma-below letters, not the old cedilla ones.
      if (lang === 'ro') expect(enKeys.filter((k) => /[şţŞŢ]/.test(templates(lang, k).join())), lang).toEqual([]);
    }
  });

  it('do not mix up Russian and Ukrainian letters', () => {
    const ukrainianOnly = /[іїєґІЇЄҐ]/;
    const russianOnly = /[ыэъёЫЭЪЁ]/;
    for (const k of enKeys) {
      if (k.startsWith('language.')) continue;
      expect(ukrainianOnly.test(dicts.ru[k]), `ru ${k}: ${dicts.ru[k]}`).toBe(false);
      expect(russianOnly.test(dicts.uk[k]), `uk ${k}: ${dicts.uk[k]}`).toBe(false);
    }
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(svelte|ts)$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('keys used by the code', () => {
  const sources = sourceFiles(join(__dirname, '..')).map((f) => readFileSync(f, 'utf8'));

  it('exist for every literal t(...) and notify(...) call', () => {
    const used = new Set<string>();
    for (const text of sources) {
      for (const m of text.matchAll(/\b(?:t|notify|has)\(\s*'([a-z0-9_]+(?:\.[a-z0-9_]+)+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(150);
    expect([...used].filter((k) => !(k in dicts.en) && !(`${k}#other` in dicts.en))).toEqual([]);
  });

  it('exist for the problem codes the screens show', () => {
    const problems = [
      ...['too_short', 'too_long', 'not_digits', 'too_simple', 'mismatch'].map((p) => `pin.problem.${p}`),
      ...['url', 'code_length', 'code_characters', 'device_name', 'worker'].map((p) => `enrol.problem.${p}`),
      ...['no_client', 'no_setting', 'birth_year', 'note_too_long', ...OVERDOSE_PROBLEMS].map((p) => `contact.problem.${p}`),
      ...['commodity', 'kind', 'quantity', 'counted', 'expiry', 'nothing_to_correct', 'correction_too_large'].map(
        (p) => `stock.problem.${p}`,
      ),
    ];
    expect(problems.filter((k) => !(k in dicts.en))).toEqual([]);
  });

  it('exist for every value shown through a dynamic key', () => {
    const needed = [
      ...SETTINGS.map((v) => `setting.${v}`),
      ...SERVICES.map((v) => `service.${v}`),
      ...REFERRAL_TARGETS.map((v) => `referral.${v}`),
      ...TESTS.map((v) => `test.${v}`),
      ...TEST_RESULTS.map((v) => `test_result.${v}`),
      ...GENDERS.map((v) => `gender.${v}`),
      ...KEY_GROUPS.map((v) => `key_group.${v}`),
      ...TALLY_AGE_BANDS.map((v) => `age_band.${v}`),
      ...TALLY_GENDERS.map((v) => `tally_gender.${v}`),
      ...LANGUAGES.map((v) => `language.${v}`),
      ...SCREENS.filter((s) => s !== 'home').flatMap((s) => [`home.${s}`, `home.${s}_hint`]),
      ...ANSWER_PROBLEM_CODES.map((c) => `form.problem.${c}`),
      ...KNOWN_SYNC_ERRORS.flatMap((c) => [`sync.error.${c}`, `sync.help.${c}`]),
      ...['push', 'pull'].map((p) => `sync.phase.${p}`),
      ...['syncing', 'pending', 'up_to_date', 'rejected'].map((s) => `sync.state.${s}`),
      ...['1', '2', '3'].map((s) => `uic.sex_${s}`),
      ...BUILT_IN_QUESTIONS.map((q) => `uic.question.${q}`),
      ...REFERRAL_OUTCOMES.map((o) => `referrals.outcome.${o}`),
      ...OVERDOSE_OUTCOMES.map((o) => `contact.overdose.outcome_value.${o}`),
      ...['yes', 'no'].map((v) => `contact.overdose.${v}`),
      ...['not_found', 'app_locked'].map((c) => `error.${c}`),
      ...RECORDED_COMMODITIES.map((c) => `commodity.${c.code}`),
      ...RECORDED_KITS.map((k) => `kit.${k.code}`),
      ...STOCK_KINDS.flatMap((k) => [`stock.kind.${k}`, `stock.kind_hint.${k}`, `stock.save.${k}`, `stock.saved.${k}`]),
      'stock.save.none',
    ];
    expect(needed.filter((k) => !(k in dicts.en))).toEqual([]);
  });
});

/** Dictionaries for every language: the given ones, the others empty. */
function dictsOf(given: Partial<Record<Language, Record<string, string>>>): Record<Language, Record<string, string>> {
  return Object.fromEntries(LANGUAGES.map((l) => [l, given[l] ?? {}])) as Record<Language, Record<string, string>>;
}

describe('i18n core', () => {
  it('fills placeholders and formats numbers for the locale', () => {
    expect(interpolate('Total: {count}', { count: 12500 }, 'en-GB')).toBe('Total: 12,500');
    expect(interpolate('Всего: {count}', { count: 12500 }, 'ru-RU')).toMatch(/^Всего: 12\s500$/);
    expect(interpolate('{a} and {a}, {b}', { a: 'x' }, 'en-GB')).toBe('x and x, {b}');
  });

  it('chooses the plural form the language needs', () => {
    const d = dictsOf({
      en: { 's#one': '{count} site', 's#other': '{count} sites' },
      ru: { 's#one': '{count} площадка', 's#few': '{count} площадки', 's#many': '{count} площадок', 's#other': '{count} площадки' },
    });
    expect(translate(d, 'en', 's', { count: 1 })).toBe('1 site');
    expect(translate(d, 'en', 's', { count: 21 })).toBe('21 sites');
    expect(translate(d, 'ru', 's', { count: 21 })).toBe('21 площадка');
    expect(translate(d, 'ru', 's', { count: 3 })).toBe('3 площадки');
    expect(translate(d, 'ru', 's', { count: 11 })).toBe('11 площадок');
    expect(translate(d, 'ru', 's', { count: 1.5 })).toBe('1,5 площадки');
    expect(translate(d, 'ru', 's', { count: 12500 })).toMatch(/^12\s500 площадок$/);
    // A language without the text falls back to English's form for the number.
    expect(translate(d, 'lt', 's', { count: 2 })).toBe('2 sites');
    expect(flatten({ a: { one: 'x', other: 'y' }, b: { other: 'z', c: 'w' } })).toEqual({
      'a#one': 'x',
      'a#other': 'y',
      'b.other': 'z',
      'b.c': 'w',
    });
  });

  it('falls back to English, then to the key', () => {
    const d = dictsOf({ en: { 'a.b': 'Hello {name}', 'only.en': 'English' }, ru: { 'a.b': 'Привет, {name}' } });
    expect(translate(d, 'ru', 'a.b', { name: 'AK' })).toBe('Привет, AK');
    expect(translate(d, 'ru', 'only.en')).toBe('English');
    expect(translate(d, 'uk', 'missing.key')).toBe('missing.key');
  });

  it('refuses translation files with non-text leaves', () => {
    expect(() => flatten({ a: { b: 1 } })).toThrow();
    expect(flatten({ a: { b: 'x' }, c: 'y' })).toEqual({ 'a.b': 'x', c: 'y' });
  });

  it('lists placeholders once, sorted', () => {
    expect(placeholders('{b} {a} {b} {not a placeholder}')).toEqual(['a', 'b']);
  });

  it('says how long ago in the language', () => {
    const now = Date.UTC(2025, 10, 25, 12);
    expect(relativeTime(now - 20_000, now, 'en-GB', 'just now')).toBe('just now');
    expect(relativeTime(now - 5 * 60_000, now, 'en-GB', 'just now')).toBe('5 minutes ago');
    expect(relativeTime(now - 3 * 3_600_000, now, 'ru-RU', '')).toBe('3 часа назад');
    expect(relativeTime(now - 86_400_000, now, 'uk-UA', '')).toBe('учора');
    expect(relativeTime(now - 12 * 86_400_000, now, 'ru-RU', '')).toBe('12 дней назад');
    expect(relativeTime(now - 90 * 86_400_000, now, 'uk-UA', '')).toBe('3 місяці тому');
    expect(relativeTime(now - 800 * 86_400_000, now, 'en-GB', '')).toBe('2 years ago');
    expect(relativeTime(now + 2 * 86_400_000, now, 'en-GB', '')).toBe('in 2 days');
  });
});
