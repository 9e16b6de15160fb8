/**
 * Showing a programme's form (an XLSForm published by the coordinator): its texts in the reader's
 * language, its pages, and the answers to send. What the answers *mean* (what shows, what is
 * calculated, what is wrong) is never decided here: that is core's check, which the tablet asks
 * through `check_form` and the dashboard's preview through the server, so there is one evaluator.
 * Used by the tablet's survey screen and the dashboard's form preview alike.
 */
import type { Form, FormAnswer, FormAnswers, FormLanguage, FormState, Group, Item, PublishedForm, Question } from '../backend';

/** What choosing a form's language needs: a form, or a form's survey results. */
export interface FormLanguages {
  languages: FormLanguage[];
  default_language: string;
}

/** A text of the form per language key (`label::Русский (ru)` gives the key `Русский (ru)`). */
export type FormText = Partial<Record<string, string>>;

/**
 * The form's language key for a language code (`ru` → `Русский (ru)`): the one whose code is
 * it, else the form's default language.
 */
export function formLanguage(form: FormLanguages, language: string): string {
  return form.languages.find((l) => l.code === language || l.key === language)?.key ?? form.default_language;
}

/** A text in the reader's language, else the default language's, else any there is. */
export function textIn(form: FormLanguages, text: FormText, language: string): string {
  const key = formLanguage(form, language);
  return text[key] ?? text[form.default_language] ?? Object.values(text).find((v) => v !== undefined) ?? '';
}

/** A label with each `${name}` replaced by that question's answer or calculated value. */
export function fillLabel(label: string, answers: FormAnswers, state: FormState | null): string {
  return label.replace(/\$\{\s*([A-Za-z_][\w.-]*)\s*\}/g, (_, name: string) => {
    const value = answers[name] ?? state?.calculated[name];
    if (value === undefined || value === null) return '…';
    return Array.isArray(value) ? value.join(', ') : String(value);
  });
}

/** One page of the form: a top-level group (a section of questions), or one question. */
export interface FormPage {
  /** The group's name, or the question's. */
  name: string;
  group: Group | null;
  questions: Question[];
}

function questionsOf(items: Item[]): Question[] {
  return items.flatMap((item) => (item.item === 'group' ? questionsOf(item.items) : [item as Question]));
}

/** The pages a worker or client steps through: calculations are never shown. */
export function formPages(form: Form): FormPage[] {
  const pages: FormPage[] = [];
  for (const item of form.items) {
    if (item.item === 'group') {
      const questions = questionsOf(item.items).filter((q) => q.kind !== 'calculate');
      if (questions.length > 0) pages.push({ name: item.name, group: item, questions });
    } else if (item.kind !== 'calculate') {
      pages.push({ name: item.name, group: null, questions: [item as Question] });
    }
  }
  return pages;
}

/** The questions of a page the check shows now (a hidden group hides its questions too). */
export function shownOn(page: FormPage, state: FormState | null): Question[] {
  if (!state) return page.group ? [] : page.questions;
  if (page.group && !state.shown.includes(page.group.name)) return [];
  return page.questions.filter((q) => state.shown.includes(q.name));
}

/** The next page after `from` (−1: the start) with something to show, or null at the end. */
export function nextPage(pages: FormPage[], from: number, state: FormState | null): number | null {
  for (let i = from + 1; i < pages.length; i++) if (shownOn(pages[i], state).length > 0) return i;
  return null;
}

/** The page before `from` with something to show, or null before the first. */
export function previousPage(pages: FormPage[], from: number, state: FormState | null): number | null {
  for (let i = from - 1; i >= 0; i--) if (shownOn(pages[i], state).length > 0) return i;
  return null;
}

/**
 * The problems to show at a question: type and constraint problems at once; `required` only
 * once the reader tried to move on (`tried`), so an empty form is not red from the start.
 */
export function problemAt(state: FormState | null, question: string, tried: boolean): { code: string; message: string | null } | null {
  const p = state?.problems.find((x) => x.question === question && (tried || x.code !== 'required'));
  return p ? { code: p.code, message: p.message } : null;
}

/** Whether any shown question of the page has a problem (what keeps the reader on it). */
export function pageHasProblems(page: FormPage, state: FormState | null): boolean {
  const names = new Set(shownOn(page, state).map((q) => q.name));
  return !!state?.problems.some((p) => names.has(p.question));
}

/** Whether an answer counts as given (an empty text or list does not). */
export function isAnswered(value: FormAnswer | undefined): value is FormAnswer {
  if (value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  return Number.isFinite(value);
}

/**
 * The answers to send: given, to questions the check shows (a hidden question's answer is
 * dropped, as the server refuses it), texts trimmed, choices of a `select_multiple` in the order
 * the form lists them.
 */
export function answersToSend(form: Form, answers: FormAnswers, state: FormState | null): FormAnswers {
  const out: FormAnswers = {};
  for (const page of formPages(form)) {
    for (const q of shownOn(page, state)) {
      const value = answers[q.name];
      if (!isAnswered(value)) continue;
      if (typeof value === 'string') out[q.name] = value.trim();
      else if (Array.isArray(value) && q.list) {
        const order = (form.choices[q.list] ?? []).map((c) => c.name);
        out[q.name] = [...value].sort((a, b) => rank(order, a) - rank(order, b));
      } else out[q.name] = value;
    }
  }
  return out;
}

function rank(order: string[], name: string): number {
  const i = order.indexOf(name);
  return i === -1 ? order.length : i;
}

/** A `select_multiple` answer with `choice` added or taken away. */
export function toggled(value: FormAnswer | undefined, choice: string): string[] {
  const current = Array.isArray(value) ? value : [];
  return current.includes(choice) ? current.filter((c) => c !== choice) : [...current, choice];
}

/**
 * A number typed into an `integer` or `decimal` question: a number when it reads as one, else
 * the text as typed (which the check reports as the wrong type), absent when empty.
 */
export function typedNumber(text: string): FormAnswer | undefined {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  return /^-?\d+(\.\d+)?$/.test(trimmed) && Number.isFinite(n) ? n : trimmed;
}

/** The contact-question forms the window quick-log shows: only those that ask for it. */
export function forQuickLog(forms: readonly PublishedForm[]): PublishedForm[] {
  return forms.filter((f) => f.definition.kind === 'contact_questions' && f.definition.in_quick_log);
}

/** The answers a form starts with: its questions' defaults, as core's check gives them. */
export function startingAnswers(state: FormState | null): FormAnswers {
  const out: FormAnswers = {};
  for (const [name, value] of Object.entries(state?.defaults ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') out[name] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[name] = value as string[];
  }
  return out;
}
