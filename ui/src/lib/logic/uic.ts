/**
 * Client codes as typed at the window, and the UIC builder: which questions the organisation's
 * scheme asks, how each is answered, and what goes to `build_uic`.
 */
import type { Gender, Status, UicAnswers, UicQuestion } from '../backend';
import { GENDERS, UIC_QUESTION_KINDS } from '../backend';

export type { UicQuestion };

/** Upper-cased, without spaces or dashes: what `find_clients` gets as a prefix. */
export function normaliseTypedCode(raw: string): string {
  return raw.replace(/[\s\-_.]/g, '').toUpperCase().slice(0, 16);
}

/**
 * The questions of the default Central Asia scheme (parents' initials, sex, year of birth), in
 * order: asked when the status has none (before enrolment, or while the scheme is locked away).
 */
export const DEFAULT_UIC_QUESTIONS: readonly UicQuestion[] = [
  { question: 'mother_first_name', kind: 'letters' },
  { question: 'father_first_name', kind: 'letters' },
  { question: 'sex', kind: 'sex' },
  { question: 'birth_year', kind: 'birth_year' },
];

/** Question names that have a translated label (`uic.question.<name>`). */
export const BUILT_IN_QUESTIONS = [
  'mother_first_name',
  'father_first_name',
  'surname',
  'birth_place',
  'sex',
  'birth_year',
  'birth_day',
] as const;

/** The answers a sex question takes: 1 man, 2 woman, 3 other. */
export const SEX_ANSWERS = ['1', '2', '3'] as const;
export type SexAnswer = (typeof SEX_ANSWERS)[number];

/** The order sex answers are shown in: the gender choices' order (woman, man, other). */
export const SEX_DISPLAY_ORDER: readonly SexAnswer[] = ['2', '1', '3'];

/** The first sex question's answer, if the scheme asks one and it was answered. */
export function sexFromAnswers(questions: readonly UicQuestion[], answers: UicAnswers): SexAnswer | null {
  const asked = questions.find((q) => q.kind === 'sex');
  const value = asked ? answers[asked.question]?.trim() : undefined;
  return (SEX_ANSWERS as readonly string[]).includes(value ?? '') ? (value as SexAnswer) : null;
}

/** The gender a code's sex answer gives: man or woman; "other" (3) leaves it to be asked. */
export function genderFromSex(sex: SexAnswer | null): Gender | null {
  return sex === '1' ? 'man' : sex === '2' ? 'woman' : null;
}

/** The genders left to ask when the code's sex answer was "other". */
export const OTHER_GENDERS: readonly Gender[] = GENDERS.filter((g) => g !== 'man' && g !== 'woman');

/** The answers a day-of-birth question takes, '1' to '31'. */
export const BIRTH_DAYS: readonly string[] = Array.from({ length: 31 }, (_, i) => String(i + 1));

/**
 * The questions the builder asks: the enrolled scheme's from the status, or the default
 * scheme's when the status has none. A kind this app does not know is asked as a word.
 */
export function schemeQuestions(status: Pick<Status, 'uic_questions'> | null | undefined): readonly UicQuestion[] {
  const listed = status?.uic_questions ?? [];
  if (listed.length === 0) return DEFAULT_UIC_QUESTIONS;
  return listed.map((q) => ({
    question: q.question,
    kind: (UIC_QUESTION_KINDS as readonly string[]).includes(q.kind) ? q.kind : 'letters',
  }));
}

/**
 * A readable label for a question without a translation (a custom scheme's): the name with
 * underscores as spaces, first letter capitalised (`favourite_colour` → `Favourite colour`).
 */
export function fallbackQuestionLabel(question: string): string {
  const words = question.replace(/_+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Builder answers as sent to `build_uic`: only the questions the scheme asks, trimmed, blank
 * answers left out (they become X).
 */
export function cleanAnswers(questions: readonly UicQuestion[], raw: Readonly<Record<string, string | null | undefined>>): UicAnswers {
  const out: UicAnswers = {};
  for (const { question } of questions) {
    const answer = raw[question]?.trim();
    if (answer) out[question] = answer;
  }
  return out;
}

/** A birth year answer is only sent once it has four digits. */
export function birthYearReady(year: string | null | undefined): boolean {
  return !year || !year.trim() || /^\d{4}$/.test(year.trim());
}

/** Whether every year-of-birth answer is empty or complete, so the code can be built. */
export function answersReady(questions: readonly UicQuestion[], raw: Readonly<Record<string, string | null | undefined>>): boolean {
  return questions.every((q) => q.kind !== 'birth_year' || birthYearReady(raw[q.question]));
}

/** Whether the scheme asks the year of birth, so the client form need not ask it again. */
export function schemeAsksBirthYear(questions: readonly UicQuestion[]): boolean {
  return questions.some((q) => q.kind === 'birth_year');
}

/**
 * The year of birth the builder was told, for the new client's `birth_year` field (which the
 * domain keeps; the other answers are never kept), or null when it was left empty or not asked.
 */
export function birthYearFromAnswers(questions: readonly UicQuestion[], answers: UicAnswers): number | null {
  const asked = questions.find((q) => q.kind === 'birth_year');
  const year = asked ? answers[asked.question]?.trim() : undefined;
  return year && /^\d{4}$/.test(year) ? Number(year) : null;
}
