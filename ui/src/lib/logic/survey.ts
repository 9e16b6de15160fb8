/**
 * The default community-based monitoring questionnaire (domain.md, "Default survey"). Anonymous
 * and never linked to a client. Every question can be skipped; yes/no questions also offer
 * "don't know" and "rather not say". Labels live in the translation files under
 * `survey.<question id>` (questions) and `survey.answer.<code>` (answers).
 */
import type { SurveyAnswer } from '../backend';

export interface FollowUp {
  id: string;
  /** Shown when the parent question's answer is one of these. */
  when: readonly string[];
  options: readonly string[];
}

export type SurveyQuestion =
  | { id: string; kind: 'single'; options: readonly string[]; followUp?: FollowUp }
  | { id: string; kind: 'multi'; options: readonly string[] }
  | { id: string; kind: 'text'; maxLength: number };

export const SURVEY: readonly SurveyQuestion[] = [
  { id: 'q1', kind: 'single', options: ['very_badly', 'badly', 'neither_well_nor_badly', 'well', 'very_well'] },
  {
    id: 'q2',
    kind: 'single',
    options: ['yes', 'partly', 'no', 'dont_know', 'rather_not_say'],
    followUp: {
      id: 'q2_missing',
      when: ['partly', 'no'],
      options: [
        'syringes_needles',
        'other_injecting_equipment',
        'condoms_lubricant',
        'naloxone',
        'smoking_equipment',
        'testing',
        'counselling',
        'referral',
        'other',
      ],
    },
  },
  {
    id: 'q3',
    kind: 'single',
    options: ['very_difficult', 'difficult', 'neither_easy_nor_difficult', 'easy', 'very_easy'],
  },
  { id: 'q4', kind: 'single', options: ['yes', 'not_sure', 'no', 'rather_not_say'] },
  { id: 'q5', kind: 'single', options: ['under_5_min', 'from_5_to_15_min', 'from_15_to_30_min', 'over_30_min'] },
  { id: 'q6', kind: 'single', options: ['yes', 'no', 'dont_know', 'rather_not_say'] },
  {
    id: 'q7',
    kind: 'multi',
    options: ['hcv_treatment', 'ost', 'women_only_hours', 'legal_aid', 'drug_checking', 'shelter', 'other'],
  },
  { id: 'q8', kind: 'text', maxLength: 1000 },
];

/** Every answer key the saved response has, in order (questions and follow-ups). */
export function answerKeys(survey: readonly SurveyQuestion[] = SURVEY): string[] {
  return survey.flatMap((q) => (q.kind === 'single' && q.followUp ? [q.id, q.followUp.id] : [q.id]));
}

/** Every answer code used anywhere in the questionnaire. */
export function answerCodes(survey: readonly SurveyQuestion[] = SURVEY): string[] {
  const codes = new Set<string>();
  for (const q of survey) {
    if (q.kind === 'text') continue;
    q.options.forEach((o) => codes.add(o));
    if (q.kind === 'single' && q.followUp) q.followUp.options.forEach((o) => codes.add(o));
  }
  return [...codes];
}

/** What the survey screen holds: an answer per key; absent means skipped or not reached. */
export type SurveyInput = Record<string, string | string[] | undefined>;

function single(value: unknown, options: readonly string[]): string | null {
  return typeof value === 'string' && options.includes(value) ? value : null;
}

function multi(value: unknown, options: readonly string[]): string[] | null {
  if (!Array.isArray(value)) return null;
  const chosen = options.filter((o) => value.includes(o));
  return chosen.length > 0 ? chosen : null;
}

/**
 * The saved answers: every key present, a skipped question as null, unknown codes dropped,
 * multi-choice answers in questionnaire order, free text trimmed (empty → null), and a follow-up
 * answer kept only when its parent answer asks for it.
 */
export function normaliseSurvey(input: SurveyInput, survey: readonly SurveyQuestion[] = SURVEY): Record<string, SurveyAnswer> {
  const out: Record<string, SurveyAnswer> = {};
  for (const q of survey) {
    const value = input[q.id];
    switch (q.kind) {
      case 'single': {
        const answer = single(value, q.options);
        out[q.id] = answer;
        if (q.followUp) {
          const asked = answer !== null && q.followUp.when.includes(answer);
          out[q.followUp.id] = asked ? multi(input[q.followUp.id], q.followUp.options) : null;
        }
        break;
      }
      case 'multi':
        out[q.id] = multi(value, q.options);
        break;
      case 'text': {
        const text = typeof value === 'string' ? value.trim().slice(0, q.maxLength) : '';
        out[q.id] = text === '' ? null : text;
        break;
      }
    }
  }
  return out;
}

/** How many questions (not follow-ups) have an answer. */
export function answeredCount(answers: Record<string, SurveyAnswer>, survey: readonly SurveyQuestion[] = SURVEY): number {
  return survey.filter((q) => answers[q.id] !== null && answers[q.id] !== undefined).length;
}

/** Whether the follow-up of a question should be shown for the current answer. */
export function showFollowUp(question: SurveyQuestion, input: SurveyInput): boolean {
  if (question.kind !== 'single' || !question.followUp) return false;
  const answer = input[question.id];
  return typeof answer === 'string' && question.followUp.when.includes(answer);
}
