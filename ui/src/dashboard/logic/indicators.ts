/**
 * How the indicator cards are grouped and labelled. The server sends a flat list; the
 * dashboard shows it in the sections a donor report has. Keys the dashboard does not know yet
 * go to "Other" with the server's English formula, so a new indicator is never lost.
 */
import type { Breakdown, Indicator } from '../api';

export const SECTIONS = [
  { id: 'reach', keys: ['people_reached', 'new_clients', 'returning_clients', 'reached_with_package'] },
  { id: 'contacts', keys: ['contacts', 'tally_people', 'secondary_distribution'] },
  {
    id: 'nsp',
    keys: [
      'needle_syringes_distributed',
      'syringes_returned',
      'return_rate',
      'syringes_per_pwid_per_year',
      'nsp_people',
      'nsp_regular_access',
    ],
  },
  { id: 'commodities', keys: ['condoms_distributed', 'naloxone_distributed', 'overdose_reversals'] },
  { id: 'testing', keys: ['tests_done', 'tests_reactive', 'linked_to_care'] },
  { id: 'referrals', keys: ['referrals_issued', 'referrals_completed', 'ost_referrals'] },
] as const;

export type SectionId = (typeof SECTIONS)[number]['id'] | 'other';

/**
 * The handful of numbers a coordinator reads first, shown together above the sections (each is
 * also in its section, with its breakdowns).
 */
export const SUMMARY_KEYS = [
  'people_reached',
  'new_clients',
  'contacts',
  'needle_syringes_distributed',
  'syringes_per_pwid_per_year',
  'tests_done',
  'naloxone_distributed',
  'overdose_reversals',
] as const;

/** The summary's indicators, in summary order, those the report has. */
export function summaryIndicators(indicators: readonly Indicator[]): Indicator[] {
  const byKey = new Map(indicators.map((i) => [i.key, i]));
  return SUMMARY_KEYS.map((k) => byKey.get(k)).filter((i): i is Indicator => i !== undefined);
}

/** Sections open when a coordinator first comes: the people reached; the rest on a tap. */
export const OPEN_BY_DEFAULT: readonly string[] = ['reach'];

/** Every indicator key of the contract, in report order. */
export const KNOWN_INDICATORS: readonly string[] = SECTIONS.flatMap((s) => [...s.keys]);

/** Breakdown dimensions of the contract. */
export const DIMENSIONS = ['gender', 'age_band_2', 'age_band', 'age_band_5', 'key_group', 'site', 'setting', 'test', 'target'] as const;

export interface Section {
  id: SectionId;
  indicators: Indicator[];
}

/** The indicators in report sections and order; empty sections are left out. */
export function groupIndicators(indicators: readonly Indicator[]): Section[] {
  const byKey = new Map(indicators.map((i) => [i.key, i]));
  const sections: Section[] = SECTIONS.map((s) => ({
    id: s.id,
    indicators: s.keys.map((k) => byKey.get(k)).filter((i): i is Indicator => i !== undefined),
  }));
  const other = indicators.filter((i) => !KNOWN_INDICATORS.includes(i.key));
  sections.push({ id: 'other', indicators: other });
  return sections.filter((s) => s.indicators.length > 0);
}

export interface BreakdownTable {
  indicator: Indicator;
  breakdown: Breakdown;
}

/** The breakdown tables of a section, in indicator order, leaving out empty ones. */
export function breakdownTables(section: Section): BreakdownTable[] {
  return section.indicators.flatMap((indicator) =>
    indicator.breakdowns.filter((b) => b.rows.length > 0).map((breakdown) => ({ indicator, breakdown })),
  );
}

/**
 * Translation keys to try for a breakdown row, most specific first: a dashboard-only label,
 * then the label the tablet app already has for the same values.
 */
export function rowLabelKeys(dimension: string, key: string): string[] {
  const shared: Record<string, string> = {
    gender: 'gender',
    key_group: 'key_group',
    setting: 'setting',
    test: 'test',
    target: 'referral',
    age_band: 'age_band',
    age_band_5: 'age_band',
  };
  const keys = [`dashboard.row.${dimension}.${key}`];
  if (shared[dimension]) keys.push(`${shared[dimension]}.${key}`);
  keys.push(`dashboard.row.any.${key}`);
  return keys;
}
