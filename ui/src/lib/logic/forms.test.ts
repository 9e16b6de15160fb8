import { describe, expect, it } from 'vitest';
import type { Form, FormState, PublishedForm, Question } from '../backend';
import { answersToSend, fillLabel, formLanguage, formPages, forQuickLog, isAnswered, nextPage, pageHasProblems, previousPage, problemAt, shownOn, startingAnswers, textIn, toggled, typedNumber } from './forms';

function question(name: string, kind: Question['kind'], extra: Partial<Question> = {}): Question {
  return {
    name,
    kind,
    label: { 'English (en)': `${name}?`, 'Русский (ru)': `${name} (ru)?` },
    hint: {},
    required: null,
    required_message: {},
    relevant: null,
    constraint: null,
    constraint_message: {},
    calculation: null,
    default: null,
    read_only: false,
    list: null,
    other: false,
    choice_filter: null,
    appearance: null,
    row: 2,
    ...extra,
  };
}

const FORM: Form = {
  id: 'demo',
  version: '1',
  kind: 'survey',
  title: { 'English (en)': 'Demo', 'Русский (ru)': 'Демо' },
  default_language: 'English (en)',
  languages: [
    { key: 'English (en)', code: 'en' },
    { key: 'Русский (ru)', code: 'ru' },
  ],
  in_quick_log: false,
  items: [
    { item: 'question', ...question('age', 'integer') },
    { item: 'question', ...question('score', 'calculate', { calculation: '${age} * 2' }) },
    {
      item: 'group',
      name: 'use',
      label: { 'English (en)': 'Drug use' },
      relevant: '${age} >= 18',
      row: 4,
      items: [
        { item: 'question', ...question('drugs', 'select_multiple', { list: 'drugs' }) },
        { item: 'question', ...question('note', 'text') },
      ],
    },
  ],
  choices: {
    drugs: [
      { name: 'heroin', label: { 'English (en)': 'Heroin' } },
      { name: 'methadone', label: { 'English (en)': 'Methadone' } },
    ],
  },
};

function state(shown: string[], problems: FormState['problems'] = []): FormState {
  return { shown, calculated: { score: 80 }, choices: {}, problems, defaults: {} };
}

describe('forms', () => {
  it('picks the reader\'s language, else the default one', () => {
    expect(formLanguage(FORM, 'ru')).toBe('Русский (ru)');
    expect(formLanguage(FORM, 'uk')).toBe('English (en)');
    expect(textIn(FORM, FORM.title, 'ru')).toBe('Демо');
    expect(textIn(FORM, { 'English (en)': 'Drug use' }, 'ru')).toBe('Drug use');
    expect(textIn(FORM, {}, 'ru')).toBe('');
  });

  it('fills ${name} in labels with answers and calculations', () => {
    expect(fillLabel('You are ${age}; score ${ score }, ${missing}', { age: 40 }, state([]))).toBe('You are 40; score 80, …');
  });

  it('makes a page of each top-level question and group, never of a calculation', () => {
    const pages = formPages(FORM);
    expect(pages.map((p) => [p.name, p.questions.map((q) => q.name)])).toEqual([
      ['age', ['age']],
      ['use', ['drugs', 'note']],
    ]);
    // A hidden group hides its page; nothing is known before the first check but plain questions.
    expect(shownOn(pages[1], null)).toEqual([]);
    expect(shownOn(pages[1], state(['age', 'drugs', 'note']))).toEqual([]);
    expect(shownOn(pages[1], state(['age', 'use', 'drugs'])).map((q) => q.name)).toEqual(['drugs']);
    expect(nextPage(pages, 0, state(['age']))).toBeNull();
    expect(nextPage(pages, 0, state(['age', 'use', 'drugs']))).toBe(1);
    expect(previousPage(pages, 1, state(['age', 'use', 'drugs']))).toBe(0);
    expect(previousPage(pages, 0, state(['age']))).toBeNull();
  });

  it('shows a required problem only after the reader tried to move on', () => {
    const s = state(['age'], [{ question: 'age', code: 'required', message: null }]);
    expect(problemAt(s, 'age', false)).toBeNull();
    expect(problemAt(s, 'age', true)).toEqual({ code: 'required', message: null });
    expect(pageHasProblems(formPages(FORM)[0], s)).toBe(true);
    const c = state(['age'], [{ question: 'age', code: 'constraint', message: 'Too old' }]);
    expect(problemAt(c, 'age', false)?.message).toBe('Too old');
  });

  it('sends only shown answers, trimmed, choices in the list\'s order', () => {
    const answers = { age: 40, drugs: ['methadone', 'heroin'], note: '  hi  ', ghost: 'x' };
    expect(answersToSend(FORM, answers, state(['age', 'use', 'drugs', 'note']))).toEqual({
      age: 40,
      drugs: ['heroin', 'methadone'],
      note: 'hi',
    });
    expect(answersToSend(FORM, answers, state(['age']))).toEqual({ age: 40 });
    expect(answersToSend(FORM, { age: 40, drugs: [], note: ' ' }, state(['age', 'use', 'drugs', 'note']))).toEqual({ age: 40 });
  });

  it('reads typed numbers and toggles choices', () => {
    expect(typedNumber(' 42 ')).toBe(42);
    expect(typedNumber('3,5')).toBe(3.5);
    expect(typedNumber('forty')).toBe('forty');
    expect(typedNumber('')).toBeUndefined();
    expect(toggled(undefined, 'a')).toEqual(['a']);
    expect(toggled(['a', 'b'], 'a')).toEqual(['b']);
    expect(isAnswered(Number.NaN)).toBe(false);
    expect(isAnswered('OK')).toBe(true);
  });

  it('shows in the window quick-log only the contact questions that ask for it', () => {
    const published = (id: string, kind: Form['kind'], inQuickLog: boolean): PublishedForm => ({
      form_id: id,
      version: 1,
      definition: { ...FORM, id, kind, in_quick_log: inQuickLog },
      status: 'published',
      published_at: '2026-12-01T00:00:00Z',
    });
    const forms = [published('a', 'contact_questions', true), published('b', 'contact_questions', false), published('c', 'survey', true)];
    expect(forQuickLog(forms).map((f) => f.form_id)).toEqual(['a']);
  });

  it('starts from the defaults core gives', () => {
    const s = { ...state([]), defaults: { visits: 1, kit: ['syringes'], where: 'home', odd: { a: 1 } } };
    expect(startingAnswers(s)).toEqual({ visits: 1, kit: ['syringes'], where: 'home' });
    expect(startingAnswers(null)).toEqual({});
  });
});
