/** Client codes as typed at the window, and the UIC builder's answers. */
import type { UicAnswers } from '../backend';

/** Upper-cased, without spaces or dashes: what `find_clients` gets as a prefix. */
export function normaliseTypedCode(raw: string): string {
  return raw.replace(/[\s\-_.]/g, '').toUpperCase().slice(0, 16);
}

/** Builder answers as sent to `build_uic`: blank answers left out (they become X). */
export function cleanAnswers(answers: UicAnswers): UicAnswers {
  const out: UicAnswers = {};
  const m = answers.mother_first_name?.trim();
  const f = answers.father_first_name?.trim();
  const y = answers.birth_year?.trim();
  if (m) out.mother_first_name = m;
  if (f) out.father_first_name = f;
  if (answers.sex) out.sex = answers.sex;
  if (y) out.birth_year = y;
  return out;
}

/** A birth year answer is only sent once it has four digits. */
export function birthYearReady(year: string | undefined): boolean {
  return !year || /^\d{4}$/.test(year.trim());
}

/** One question of a UIC scheme, named as `build_uic` expects its answer. */
export type UicQuestion = keyof UicAnswers;

/**
 * The questions of the scheme the builder asks (the default Central Asia scheme: parents'
 * initials, sex, year of birth), in order.
 */
export const DEFAULT_UIC_QUESTIONS: readonly UicQuestion[] = ['mother_first_name', 'father_first_name', 'sex', 'birth_year'];

/** Whether the scheme asks the year of birth, so the client form need not ask it again. */
export function schemeAsksBirthYear(questions: readonly UicQuestion[]): boolean {
  return questions.includes('birth_year');
}

/**
 * The year of birth the builder was told, for the new client's `birth_year` field (which the
 * domain keeps; the other answers are never kept), or null when it was left empty.
 */
export function birthYearFromAnswers(answers: UicAnswers): number | null {
  const year = answers.birth_year?.trim();
  return year && /^\d{4}$/.test(year) ? Number(year) : null;
}
