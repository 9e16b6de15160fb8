/**
 * Survey results in questionnaire order: questions and answers as the tablet asks them
 * (`lib/logic/survey.ts`), answers the questionnaire does not know after them, most frequent
 * first. Shares are of all responses in the period (a question can be skipped; several answers
 * can be chosen in multiple-choice questions).
 */
import { SURVEY, type SurveyQuestion } from '../../lib/logic/survey';
import type { SurveyQuestionResult } from '../api';

export interface AnswerRow {
  value: string;
  count: number;
  /** 0–1 of all responses. */
  fraction: number;
}

export interface QuestionRows {
  id: string;
  multiple: boolean;
  answered: number;
  rows: AnswerRow[];
}

function knownOptions(id: string, survey: readonly SurveyQuestion[]): { options: readonly string[]; multiple: boolean } | null {
  for (const q of survey) {
    if (q.id === id && q.kind !== 'text') return { options: q.options, multiple: q.kind === 'multi' };
    if (q.kind === 'single' && q.followUp?.id === id) return { options: q.followUp.options, multiple: true };
  }
  return null;
}

function questionOrder(id: string, survey: readonly SurveyQuestion[]): number {
  const ids = survey.flatMap((q) => (q.kind === 'single' && q.followUp ? [q.id, q.followUp.id] : [q.id]));
  const i = ids.indexOf(id);
  return i === -1 ? ids.length : i;
}

export function surveyRows(
  questions: readonly SurveyQuestionResult[],
  responses: number,
  survey: readonly SurveyQuestion[] = SURVEY,
): QuestionRows[] {
  return [...questions]
    .sort((a, b) => questionOrder(a.id, survey) - questionOrder(b.id, survey) || a.id.localeCompare(b.id))
    .map((q) => {
      const known = knownOptions(q.id, survey);
      const options = known?.options ?? [];
      const counts = new Map(q.answers.map((a) => [a.value, a.count]));
      const listed = options.map((value) => ({ value, count: counts.get(value) ?? 0 }));
      const extra = q.answers.filter((a) => !options.includes(a.value)).sort((a, b) => b.count - a.count);
      const rows = [...listed, ...extra].map((a) => ({
        value: a.value,
        count: a.count,
        fraction: responses > 0 ? a.count / responses : 0,
      }));
      return {
        id: q.id,
        multiple: known?.multiple ?? false,
        answered: q.answers.reduce((sum, a) => sum + a.count, 0),
        rows,
      };
    });
}
