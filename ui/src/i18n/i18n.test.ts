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
  ANSWER_PROBLEM_CODES,
} from '../lib/backend';
import { RECORDED_COMMODITIES, RECORDED_KITS } from '../lib/fakeBackend';
import { KNOWN_SYNC_ERRORS } from '../lib/logic/sync';
import { OVERDOSE_PROBLEMS } from '../lib/logic/contact';
import { BUILT_IN_QUESTIONS } from '../lib/logic/uic';
import { SCREENS } from '../lib/session.svelte';
import { flatten, interpolate, placeholders, relativeTime, translate } from './core';
import en from './en.json';
import ru from './ru.json';
import uk from './uk.json';

const dicts = { en: flatten(en), ru: flatten(ru), uk: flatten(uk) };
const enKeys = Object.keys(dicts.en).sort();

/** Keys whose text is rightly the same in every language (names of languages, examples, numbers). */
const SAME_EVERYWHERE = new Set([
  'app.name',
  'dashboard.surveys.small',
  'language.en',
  'language.ru',
  'language.uk',
  'enrol.server_placeholder',
  'enrol.code_placeholder',
  'quicklog.code_placeholder',
  'uic.birth_year_placeholder',
  'items.line',
  'age_band.15_19',
  'age_band.20_24',
  'age_band.25_49',
  'age_band.50_plus',
]);

describe('translation files', () => {
  it('have the same keys in every language', () => {
    for (const lang of LANGUAGES) expect(Object.keys(dicts[lang]).sort(), lang).toEqual(enKeys);
  });

  it('have no empty texts', () => {
    for (const lang of LANGUAGES) {
      for (const [key, text] of Object.entries(dicts[lang])) expect(text.trim(), `${lang} ${key}`).not.toBe('');
    }
  });

  it('use the same placeholders in every language', () => {
    for (const key of enKeys) {
      const expected = placeholders(dicts.en[key]);
      for (const lang of LANGUAGES) expect(placeholders(dicts[lang][key]), `${lang} ${key}`).toEqual(expected);
    }
  });

  it('are really translated (no English left in Russian or Ukrainian)', () => {
    for (const lang of ['ru', 'uk'] as const) {
      const untranslated = enKeys.filter((k) => dicts[lang][k] === dicts.en[k] && !SAME_EVERYWHERE.has(k));
      expect(untranslated, lang).toEqual([]);
      const latinOnly = enKeys.filter(
        (k) => !SAME_EVERYWHERE.has(k) && /[a-z]{4,}/i.test(dicts[lang][k]) && !/\p{Script=Cyrillic}/u.test(dicts[lang][k]),
      );
      expect(latinOnly, lang).toEqual([]);
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
    expect([...used].filter((k) => !(k in dicts.en))).toEqual([]);
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

describe('i18n core', () => {
  it('fills placeholders and formats numbers for the locale', () => {
    expect(interpolate('Total: {count}', { count: 12500 }, 'en-GB')).toBe('Total: 12,500');
    expect(interpolate('Всего: {count}', { count: 12500 }, 'ru-RU')).toMatch(/^Всего: 12\s500$/);
    expect(interpolate('{a} and {a}, {b}', { a: 'x' }, 'en-GB')).toBe('x and x, {b}');
  });

  it('falls back to English, then to the key', () => {
    const d = { en: { 'a.b': 'Hello {name}', 'only.en': 'English' }, ru: { 'a.b': 'Привет, {name}' }, uk: {} };
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
