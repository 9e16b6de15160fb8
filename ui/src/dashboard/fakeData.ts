/**
 * The in-memory dashboard server's demo data (`fakeApi.ts` serves it): plausible numbers that
 * scale with the period and the sites chosen (indicator sets included), the catalogue the real
 * server's tablet fixtures recorded, devices, conflicts, likely duplicate clients and audit
 * entries.
 */
import type {
  AuditEntry,
  Breakdown,
  Cadence,
  Catalogue,
  Commodity,
  Conflict,
  Coverage,
  DashboardSite,
  Device,
  DuplicateReason,
  Indicator,
  IndicatorsReport,
  KitTemplate,
  Dhis2Preview,
  HeldBack,
  Organisation,
  OutValue,
  PublishedForm,
  ReviewRecord,
  SetIndicator,
  SetReport,
  SetSummary,
  StockReport,
  SurveyResults,
  Table,
  Trends,
  UicScheme,
  Unit,
  Unmapped,
} from './api';
import { COVERAGE_HIGH_ABOVE, SMALL_CELL } from './generated/api';
import { recordedAnswer } from '../lib/fixtures';
import { isUid, MAPPING_HEADER, type Problem } from './logic/dhis2';
import { daysBetween, monthsOf } from './logic/period';
import type { Filter } from './logic/query';

const DAY = 86_400_000;

export const DEMO_SITES: DashboardSite[] = [
  { id: 'site-dropin', name: 'Drop-in centre', pwid_estimate: 420 },
  { id: 'site-street', name: 'Street outreach team', pwid_estimate: 300 },
  { id: 'site-van', name: 'Mobile van (north)', pwid_estimate: null },
];

/** The forms the real server published, as the tablet's recorder received them. */
export const RECORDED_FORMS: readonly PublishedForm[] = recordedAnswer<PublishedForm[]>('offered_forms', { kind: null });

// ---------------------------------------------------------------------------------------------
// Demo data: plausible numbers that scale with the period and the sites chosen
// ---------------------------------------------------------------------------------------------

/** A small deterministic hash, so the same filter always gives the same numbers. */
function seeded(text: string): () => number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return (h >>> 0) / 4294967296;
  };
}

function cell(key: string, value: number, suppress: boolean, people: boolean) {
  const hidden = suppress && people && value > 0 && value < 5;
  return { key, value: hidden ? null : value, suppressed: hidden };
}

function split(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const parts = weights.map((w) => Math.floor((total * w) / sum));
  parts[0] += total - parts.reduce((a, b) => a + b, 0);
  return parts;
}

export function demoIndicators(filter: Filter, sites: DashboardSite[]): IndicatorsReport {
  const days = daysBetween(filter.from, filter.to) + 1;
  const scale = (days / 30) * (sites.length / DEMO_SITES.length);
  const rand = seeded(`${filter.from}${filter.to}${sites.map((s) => s.id).join()}`);
  const n = (base: number) => Math.max(0, Math.round(base * scale * (0.85 + rand() * 0.3)));
  const s = filter.suppress;
  const people = n(180);
  const contacts = n(640);
  const syringes = n(9800);
  const returned = Math.round(syringes * (0.55 + rand() * 0.2));
  const pwid = sites.reduce((sum, site) => sum + (site.pwid_estimate ?? 0), 0);
  const perPwid = pwid > 0 ? Math.round(((syringes / pwid) * 365 * 10) / days) / 10 : null;
  const testsHiv = n(46);
  const testsHcv = n(31);
  const reactiveHiv = Math.min(testsHiv, 3);
  const reactiveHcv = Math.min(testsHcv, 7);

  const ind = (key: string, value: number | null, unit: Unit, breakdowns: Breakdown[] = [], isPeople = false): Indicator => {
    const c = value === null ? { value: null, suppressed: false } : cell(key, value, s, isPeople);
    return { key, value: c.value, suppressed: c.suppressed, unit, formula: `${key} (demo)`, breakdowns };
  };
  const peopleRows = (dimension: string, keys: string[], weights: number[], total = people): Breakdown => ({
    dimension,
    rows: split(total, weights).map((v, i) => cell(keys[i], v, s, true)),
  });
  const siteRows = (total: number, isPeople: boolean): Breakdown => ({
    dimension: 'site',
    rows: split(total, sites.map((_, i) => 3 - i)).map((v, i) => cell(sites[i].id, v, s, isPeople)),
  });

  const syringesPerPwid = ind('syringes_per_pwid_per_year', perPwid, 'per_pwid_year');
  if (perPwid !== null) syringesPerPwid.coverage = perPwid < 100 ? 'low' : perPwid <= 200 ? 'medium' : 'high';
  syringesPerPwid.target = 300;

  return {
    from: filter.from,
    to: filter.to,
    sites: sites.map((x) => x.id),
    suppression: { enabled: s, threshold: 5 },
    indicators: [
      ind(
        'people_reached',
        people,
        'people',
        [
          peopleRows('gender', ['man', 'woman', 'trans_woman', 'non_binary', 'not_stated'], [62, 31, 1.2, 0.8, 5]),
          peopleRows('age_band_2', ['under_25', '25_plus', 'unknown'], [18, 78, 4]),
          peopleRows('age_band', ['under_15', '15_19', '20_24', '25_49', '50_plus', 'unknown'], [0, 4, 14, 64, 14, 4]),
          peopleRows('key_group', ['injects_drugs', 'uses_stimulants', 'sex_work', 'msm', 'pregnant'], [70, 24, 12, 6, 1], people),
          siteRows(people, true),
        ],
        true,
      ),
      ind('new_clients', Math.round(people * 0.18), 'people', [], true),
      ind('returning_clients', people - Math.round(people * 0.18), 'people', [], true),
      ind('reached_with_package', Math.round(people * 0.64), 'people', [], true),
      ind('contacts', contacts, 'contacts', [
        {
          dimension: 'setting',
          rows: split(contacts, [34, 28, 22, 10, 6]).map((v, i) =>
            cell(['fixed_site', 'window', 'street_outreach', 'mobile_van', 'nightlife'][i], v, s, false),
          ),
        },
        siteRows(contacts, false),
      ]),
      ind('tally_people', n(95), 'people'),
      ind('secondary_distribution', n(57), 'contacts'),
      ind('needle_syringes_distributed', syringes, 'items', [siteRows(syringes, false)]),
      ind('syringes_returned', returned, 'items'),
      ind('return_rate', syringes > 0 ? Math.round((returned / syringes) * 1000) / 10 : null, 'percent'),
      syringesPerPwid,
      ind('nsp_people', Math.round(people * 0.7), 'people', [], true),
      ind('nsp_regular_access', Math.round(people * 0.41), 'people', [], true),
      ind('condoms_distributed', n(2100), 'items'),
      ind('naloxone_distributed', n(64), 'items'),
      ind('overdose_reversals', Math.min(n(3), 4), 'people', [], true),
      ind('tests_done', testsHiv + testsHcv, 'tests', [
        { dimension: 'test', rows: [cell('hiv_rapid', testsHiv, s, true), cell('hcv_rapid', testsHcv, s, true)] },
      ]),
      ind('tests_reactive', reactiveHiv + reactiveHcv, 'tests', [
        { dimension: 'test', rows: [cell('hiv_rapid', reactiveHiv, s, true), cell('hcv_rapid', reactiveHcv, s, true)] },
      ], true),
      ind('linked_to_care', Math.max(0, reactiveHiv + reactiveHcv - 2), 'people', [], true),
      ind('referrals_issued', n(38), 'referrals', [
        {
          dimension: 'target',
          rows: split(n(38), [12, 9, 7, 5, 3, 2]).map((v, i) =>
            cell(['ost', 'hcv_treatment', 'art_hiv_care', 'tb', 'shelter', 'legal_aid'][i], v, s, true),
          ),
        },
      ]),
      ind('referrals_completed', n(21), 'referrals', [
        {
          dimension: 'target',
          rows: split(n(21), [8, 6, 4, 3]).map((v, i) => cell(['ost', 'hcv_treatment', 'art_hiv_care', 'tb'][i], v, s, true)),
        },
      ]),
      ind('ost_referrals', n(12), 'referrals'),
    ],
  };
}

export function demoTrends(filter: Filter, sites: DashboardSite[]): Trends {
  const share = sites.length / DEMO_SITES.length;
  const months = monthsOf(filter).map((month, i) => {
    const rand = seeded(month + sites.map((s) => s.id).join());
    const season = 1 + 0.18 * Math.sin((i / 12) * Math.PI * 2);
    const people = Math.round(170 * share * season * (0.9 + rand() * 0.2));
    const syringes = Math.round(9500 * share * season * (0.9 + rand() * 0.2));
    return {
      month,
      people_reached: filter.suppress && people < 5 ? null : people,
      contacts: Math.round(people * 3.4),
      needle_syringes: syringes,
      syringes_returned: Math.round(syringes * (0.55 + rand() * 0.2)),
    };
  });
  const days = daysBetween(filter.from, filter.to) + 1;
  const by_site = sites.map((site, i) => {
    const people = Math.round(((90 - i * 35) * days) / 30);
    return {
      site_id: site.id,
      site_name: site.name,
      people_reached: filter.suppress && people < 5 ? null : people,
      contacts: Math.round(people * 3.6),
      needle_syringes: Math.round(people * 52),
    };
  });
  return { months, by_site };
}

// ---------------------------------------------------------------------------------------------
// Indicator sets: the programme's own and its donors', a few indicators of each (the real
// definitions are the server's, `sync-server/src/services/reports/sets/definitions/`)
// ---------------------------------------------------------------------------------------------

type DemoCategories = [key: string, label: string, weight: number][];

interface DemoSet {
  key: string;
  name: string;
  source: string;
  cadence: Cadence;
  notes: string[];
  /** Category dimensions; `site` is added from the report's sites. */
  dimensions: Record<string, { label: string; categories: DemoCategories }>;
  indicators: {
    key: string;
    code?: string;
    name: string;
    definition: string;
    unit: Unit;
    /** People (or items) a month across every demo site. */
    perMonth: number;
    /** A percentage of `perMonth` over this many a month, or items per PWID per year. */
    of?: number | 'pwid';
    tables?: string[][];
  }[];
}

const GENDER_GF: DemoCategories = [
  ['female', 'Female', 30],
  ['male', 'Male', 64],
  ['transgender', 'Transgender', 2],
  ['other_not_stated', 'Other or not stated', 4],
];
const AGE_25: DemoCategories = [
  ['under_25', '<25', 18],
  ['25_plus', '25+', 79],
  ['unknown', 'Unknown age', 3],
];

export const DEMO_SETS: DemoSet[] = [
  {
    key: 'programme',
    name: "The programme's own indicators",
    source: "Outpost's domain model and the dashboard overview",
    cadence: 'month',
    notes: ['The same numbers as the Indicators page, in a table per indicator.'],
    dimensions: {
      gender: {
        label: 'Gender',
        categories: [
          ['woman', 'Woman', 31],
          ['man', 'Man', 62],
          ['trans_woman', 'Trans woman', 1],
          ['non_binary', 'Non-binary', 1],
          ['not_stated', 'Not stated', 5],
        ],
      },
    },
    indicators: [
      { key: 'people_reached', name: 'People reached', definition: 'Distinct people with a contact in the period.', unit: 'people', perMonth: 180, tables: [['gender'], ['site']] },
      { key: 'contacts', name: 'Contacts', definition: 'Individual contacts plus people counted in anonymous tallies.', unit: 'contacts', perMonth: 640 },
    ],
  },
  {
    key: 'who_nsp',
    name: 'WHO NSP coverage (WHO/UNODC/UNAIDS technical guide)',
    source: 'WHO, UNODC, UNAIDS, Technical guide for countries to set targets for universal access to HIV prevention, treatment and care for injecting drug users, 2012 revision',
    cadence: 'year',
    notes: [
      'Ratios and coverage against size estimates use only the sites that have an estimate, on both sides of the division.',
      'Outpost does not dispense opioid substitution therapy: OST coverage cannot be computed.',
    ],
    dimensions: {
      gender: {
        label: 'Gender',
        categories: [
          ['female', 'Female', 30],
          ['male', 'Male', 66],
          ['other', 'Other', 4],
        ],
      },
      age: {
        label: 'Age',
        categories: [
          ['under_25', '<25', 15],
          ['25_plus', '25+', 85],
        ],
      },
    },
    indicators: [
      { key: 'syringes_per_pwid_per_year', code: 'PRV.10', name: 'Needle-syringes distributed per PWID per year', definition: 'Needle-syringes given at sites with a PWID size estimate, divided by the sum of the estimates, scaled to a year.', unit: 'per_pwid_year', perMonth: 9800, of: 'pwid' },
      { key: 'needle_syringes_distributed', name: 'Needle-syringes distributed', definition: 'Needle-syringe items given, reversals subtracted, anonymous tallies included.', unit: 'items', perMonth: 9800, tables: [['site']] },
      { key: 'pwid_reached', name: 'PWID reached', definition: 'People who inject drugs with a contact in the period.', unit: 'people', perMonth: 126, tables: [['gender'], ['age'], ['site']] },
      { key: 'pwid_nsp_coverage', code: 'PRV.8', name: 'PWID reached by needle-syringe programmes (% of estimate)', definition: 'PWID given needle-syringes at sites with an estimate, divided by the estimates, as a percentage.', unit: 'percent', perMonth: 118, of: 720 },
      { key: 'pwid_regular_nsp', code: 'PRV.9', name: 'Regular needle-syringe access (% of PWID given needle-syringes)', definition: 'Of the PWID given needle-syringes, those with a contact in every 30-day part of the period.', unit: 'percent', perMonth: 3, of: 118 },
    ],
  },
  {
    key: 'global_fund',
    name: 'Global Fund key-population indicators',
    source: 'The Global Fund, Modular Framework Handbook, allocation period 2023–2025 (Grant Cycle 7)',
    cadence: 'half_year',
    notes: ['Key populations overlap: a person who injects drugs and sells sex counts in both KP-1c and KP-1d.'],
    dimensions: { gender: { label: 'Gender', categories: GENDER_GF }, age: { label: 'Age', categories: AGE_25 } },
    indicators: [
      { key: 'kp_1c', code: 'KP-1c', name: 'Sex workers reached with the defined package', definition: 'Sex workers who in the period received condoms, and information or counselling.', unit: 'people', perMonth: 14, tables: [['gender'], ['age']] },
      { key: 'kp_1d', code: 'KP-1d', name: 'People who inject drugs reached with the defined package', definition: 'People who inject drugs who in the period received needle-syringes, condoms, and information or counselling.', unit: 'people', perMonth: 96, tables: [['gender'], ['age']] },
      { key: 'kp_3d', code: 'KP-3d', name: 'People who inject drugs tested for HIV who know their result', definition: 'People who inject drugs with an HIV rapid test with a reactive or non-reactive result in the period.', unit: 'people', perMonth: 31, tables: [['gender'], ['age']] },
    ],
  },
  {
    key: 'pepfar_kp_prev',
    name: 'PEPFAR MER KP_PREV',
    source: 'PEPFAR Monitoring, Evaluation, and Reporting (MER) Indicator Reference Guide, version 2.6.1 (FY2023), KP_PREV',
    cadence: 'half_year',
    notes: [
      'Each person counts in one key-population type only: PWID, then TG, then FSW, then MSM.',
      "Outpost does not record a declined test offer or a referral to testing elsewhere: the 'declined' row is always 0.",
    ],
    dimensions: {
      kp_type: {
        label: 'Key population type',
        categories: [
          ['pwid', 'PWID', 88],
          ['tg', 'TG', 1],
          ['fsw', 'FSW', 8],
          ['msm', 'MSM', 3],
        ],
      },
      testing_status: {
        label: 'Testing services',
        categories: [
          ['known_positive', 'Known positive', 6],
          ['newly_tested_or_referred', 'Newly tested and/or referred for testing', 94],
          ['declined', 'Declined testing and/or referral (not recorded)', 0],
        ],
      },
    },
    indicators: [
      {
        key: 'kp_prev',
        code: 'KP_PREV',
        name: 'Key populations reached with individual and/or small-group prevention interventions',
        definition: 'Distinct key-population members reached in the period who, if not known positive, were tested or offered testing and received at least one other listed intervention.',
        unit: 'people',
        perMonth: 60,
        tables: [['kp_type'], ['kp_type', 'testing_status']],
      },
    ],
  },
  {
    key: 'unaids_gam',
    name: 'UNAIDS Global AIDS Monitoring (harm reduction, programme data)',
    source: 'UNAIDS Indicator Registry, Global AIDS Monitoring',
    cadence: 'year',
    notes: ['Survey indicators and OST coverage cannot be computed from service records.'],
    dimensions: { age: { label: 'Age', categories: AGE_25 } },
    indicators: [
      { key: 'syringes_per_pwid', name: 'Needles and syringes distributed per person who injects drugs', definition: 'Needle-syringes per PWID per year, sites with an estimate.', unit: 'per_pwid_year', perMonth: 9800, of: 'pwid' },
      { key: 'prevention_reached_c', name: 'People who inject drugs reached with HIV prevention (programme data)', definition: 'PWID given needle-syringes, condoms, information or counselling, or testing.', unit: 'people', perMonth: 120, tables: [['age']] },
    ],
  },
];

export function demoSetSummaries(): SetSummary[] {
  return DEMO_SETS.map((s) => ({
    key: s.key,
    name: s.name,
    source: s.source,
    cadence: s.cadence,
    indicators: s.indicators.map((i) => ({ key: i.key, ...(i.code ? { code: i.code } : {}), name: i.name })),
  }));
}

/**
 * A demo set computed for the filter for the programme (the organisation's name and
 * needle-syringe target): made-up numbers, people from 1 to 4 hidden as the server hides them.
 */
export function demoSetReport(
  set: DemoSet,
  filter: Filter,
  sites: DashboardSite[],
  programme: Pick<Organisation, 'name' | 'nsp_target'>,
): SetReport {
  const nspTarget = programme.nsp_target;
  const days = daysBetween(filter.from, filter.to) + 1;
  const share = sites.length / DEMO_SITES.length;
  const rand = seeded(`${set.key}${filter.from}${filter.to}${sites.map((s) => s.id).join()}`);
  const n = (perMonth: number) => Math.max(0, Math.round(((perMonth * days) / 30) * share * (0.9 + rand() * 0.2)));
  const isPeople = (unit: Unit) => unit === 'people' || unit === 'tests' || unit === 'referrals';
  const hide = (value: number, unit: Unit) => filter.suppress && isPeople(unit) && value > 0 && value < SMALL_CELL;
  const tableCell = (keys: string[], value: number, unit: Unit) =>
    hide(value, unit) ? { keys, value: null, suppressed: true } : { keys, value, suppressed: false };
  const named = [...sites].sort((a, b) => a.name.localeCompare(b.name));
  const categoriesOf = (dimension: string): DemoCategories =>
    dimension === 'site' ? named.map((s, i) => [s.id, s.name, 3 - i]) : set.dimensions[dimension].categories;
  const used = [...new Set(set.indicators.flatMap((i) => (i.tables ?? []).flat()))];
  const pwid = sites.reduce((sum, s) => sum + (s.pwid_estimate ?? 0), 0);

  const indicators: SetIndicator[] = set.indicators.map((d) => {
    const count = n(d.perMonth);
    const tables = (d.tables ?? []).map((dims): Table => {
      const [rows, columns] = dims.map(categoriesOf);
      const rowValues = split(count, rows.map((c) => c[2]));
      const cells = rows.flatMap((r, i) =>
        columns
          ? split(rowValues[i], columns.map((c) => c[2])).map((v, j) => tableCell([r[0], columns[j][0]], v, d.unit))
          : [tableCell([r[0]], rowValues[i], d.unit)],
      );
      return { dimensions: dims, cells };
    });
    const base = { key: d.key, ...(d.code ? { code: d.code } : {}), name: d.name, definition: d.definition, unit: d.unit, tables };
    if (d.of === 'pwid') {
      const value = pwid > 0 ? Math.round(((count / pwid) * 365 * 10) / days) / 10 : null;
      const coverage: Coverage | null = value === null ? null : value < 100 ? 'low' : value <= COVERAGE_HIGH_ABOVE ? 'medium' : 'high';
      return { ...base, value, suppressed: false, numerator: count, ...(pwid > 0 ? { denominator: pwid } : {}), ...(coverage ? { coverage } : {}), target: nspTarget };
    }
    if (d.of !== undefined) {
      const denominator = Math.round(((d.of * days) / 30) * share);
      if (hide(count, 'people')) return { ...base, value: null, suppressed: true, denominator };
      const value = denominator > 0 ? Math.round((count / denominator) * 1000) / 10 : null;
      return { ...base, value, suppressed: false, numerator: count, denominator };
    }
    const hidden = hide(count, d.unit);
    return { ...base, value: hidden ? null : count, suppressed: hidden };
  });

  return {
    programme: programme.name,
    set: set.key,
    name: set.name,
    source: set.source,
    notes: set.notes,
    from: filter.from,
    to: filter.to,
    sites: named.map((s) => ({ key: s.id, label: s.name })),
    suppression: { enabled: filter.suppress, threshold: SMALL_CELL },
    dimensions: used.map((key) => ({
      key,
      kind: key === 'site' ? 'site' : 'categories',
      label: key === 'site' ? 'Site' : set.dimensions[key].label,
      categories: categoriesOf(key).map(([k, label]) => ({ key: k, label })),
    })),
    indicators,
  };
}

/**
 * Demo results of the shipped community-monitoring form (its definition as the real server
 * published it, from the tablet's recorded fixtures): made-up counts in the shape the server
 * sends, small counts shown as the server hides them.
 */
export function demoSurveys(filter: Filter, sites: DashboardSite[]): SurveyResults {
  const days = daysBetween(filter.from, filter.to) + 1;
  const responses = Math.round((days / 30) * 14 * (sites.length / DEMO_SITES.length));
  const form = RECORDED_FORMS[0].definition;
  const hidden = responses < 5;
  const questions = hidden
    ? []
    : form.items.flatMap((item) => {
        if (item.item !== 'question' || (item.kind !== 'select_one' && item.kind !== 'select_multiple') || !item.list) return [];
        const list = form.choices[item.list] ?? [];
        // Most answers on the first choices, fewer further down (multiple choice: a share each).
        const weights = list.map((_, i) => Math.max(1, 60 - i * 15));
        const counts = item.kind === 'select_one' ? split(responses, weights) : list.map((_, i) => Math.round((responses * weights[i]) / 200));
        const choices = list.map((c, i) => ({ name: c.name, label: c.label, count: counts[i] > 0 && counts[i] < 5 ? null : counts[i] }));
        const answered = item.kind === 'select_one' && choices.every((c) => c.count !== null) ? responses : null;
        return [{ name: item.name, kind: item.kind, label: item.label, answered, choices, numbers: null }];
      });
  return {
    threshold: 5,
    forms: [
      {
        form_id: RECORDED_FORMS[0].form_id,
        title: form.title,
        languages: form.languages,
        default_language: form.default_language,
        responses,
        hidden,
        questions,
      },
    ],
  };
}

const STOCK_ITEMS: { commodity: string; name: string; level: number; low: number | null; perDay: number }[] = [
  { commodity: 'syringe_1ml', name: 'Syringe 1 ml (insulin, fixed needle)', level: 2400, low: 1000, perDay: 160 },
  { commodity: 'syringe_2ml', name: 'Syringe 2 ml', level: 380, low: 500, perDay: 35 },
  { commodity: 'alcohol_swab', name: 'Alcohol swab', level: 5200, low: 1000, perDay: 170 },
  { commodity: 'sterile_water', name: 'Sterile water', level: 640, low: 200, perDay: 30 },
  { commodity: 'condom_external', name: 'Condom (external)', level: 1800, low: 300, perDay: 60 },
  { commodity: 'naloxone_nasal', name: 'Naloxone (nasal)', level: 18, low: 20, perDay: 2.1 },
  { commodity: 'foil', name: 'Foil', level: 90, low: null, perDay: 0 },
];

export function demoStock(sites: DashboardSite[], nowMs: number): StockReport {
  const levels = sites.flatMap((site, si) =>
    STOCK_ITEMS.map((item) => {
      const level = Math.round(item.level * (1 - si * 0.35));
      const perDay = Math.round(item.perDay * (1 - si * 0.3) * 10) / 10;
      return {
        site_id: site.id,
        site_name: site.name,
        commodity: item.commodity,
        name: item.name,
        level,
        low_threshold: item.low,
        low: level <= 0 || (item.low !== null && level < item.low),
        status: level < 0 ? 'count_needed' : level === 0 || (item.low !== null && level < item.low) ? 'low' : 'ok',
        used_per_day: perDay,
        days_left: perDay > 0 ? Math.round((level / perDay) * 10) / 10 : null,
      };
    }),
  );
  const day = (back: number) => new Date(nowMs - back * DAY).toISOString().slice(0, 10);
  const history = sites.flatMap((site, si) =>
    STOCK_ITEMS.slice(0, 3).flatMap((item) => {
      const rand = seeded(site.id + item.commodity);
      const out = [];
      let level = Math.round(item.level * 1.6 * (1 - si * 0.35));
      for (let back = 88; back >= 0; back -= 4) {
        level = Math.max(0, level - Math.round(item.perDay * 4 * (0.7 + rand() * 0.6) * (1 - si * 0.3)));
        if (back % 28 === 0) level += Math.round(item.level * 1.2);
        out.push({ date: day(back), site_id: site.id, commodity: item.commodity, level });
      }
      return out;
    }),
  );
  const kinds = ['received', 'transfer_out', 'transfer_in', 'expired_damaged', 'count_correction', 'lost'];
  const movements = Array.from({ length: 14 }, (_, i) => {
    const site = sites[i % sites.length];
    const item = STOCK_ITEMS[i % STOCK_ITEMS.length];
    const kind = kinds[i % kinds.length];
    return {
      id: `mv-${i + 1}`,
      site_id: site.id,
      commodity: item.commodity,
      quantity: kind === 'received' ? 1000 : kind === 'count_correction' ? -12 : 40 + i * 5,
      kind,
      occurred_at: new Date(nowMs - (i * 2 + 1) * DAY - i * 3_600_000).toISOString(),
    };
  });
  const expiring = [
    { site: sites[0], item: STOCK_ITEMS[5], batch: 'NX-2291', days: 21, quantity: 20 },
    { site: sites[1 % sites.length], item: STOCK_ITEMS[3], batch: null, days: -4, quantity: 500 },
  ].map(({ site, item, batch, days, quantity }) => ({
    site_id: site.id,
    site_name: site.name,
    commodity: item.commodity,
    name: item.name,
    batch,
    expiry_date: day(-days),
    quantity,
    received_at: new Date(nowMs - 200 * DAY).toISOString(),
    days_left: days,
  }));
  return { levels, movements, history, expiring };
}

/** The demo organisation: the server's built-in schemes (as core defines them), clients registered. */
export function demoOrganisation(): Organisation {
  const scheme = (name: string, parts: UicScheme['components']): UicScheme => ({ name, components: parts, script: 'latin' });
  const central = scheme('central_asia', [
    { kind: 'letters', question: 'mother_first_name', count: 2 },
    { kind: 'letters', question: 'father_first_name', count: 2 },
    { kind: 'sex_digit', question: 'sex' },
    { kind: 'birth_year', question: 'birth_year', digits: 2 },
  ]);
  const surname = scheme('surname_day_year', [
    { kind: 'letters', question: 'surname', count: 3 },
    { kind: 'sex_digit', question: 'sex' },
    { kind: 'birth_day', question: 'birth_day' },
    { kind: 'birth_year', question: 'birth_year', digits: 2 },
  ]);
  return { name: 'Demo harm reduction programme', default_language: 'en', uic_scheme: central, scheme_changeable: false, built_in_schemes: [central, surname], retention_days: null, client_index: false, nsp_target: 300, nsp_target_set: false };
}

/** The catalogue and kits the real server's tablet fixtures recorded, as the admin page lists them. */
export function demoCatalogue(): Catalogue {
  const commodities = recordedAnswer<Commodity[]>('commodities');
  const kits = recordedAnswer<KitTemplate[]>('kit_templates');
  return {
    commodities: commodities.map((commodity, i) => ({ id: `c-${i + 1}`, commodity: { ...commodity, site_thresholds: {} } })),
    kits: kits.map((kit, i) => ({ id: `k-${i + 1}`, kit })),
  };
}

export function demoDevices(nowMs: number): Device[] {
  const base = {
    app_version: '0.3.1',
    enrolled_ms: nowMs - 120 * DAY,
    revoked_ms: null,
    clock_skew_ms: 1200,
    clamped_count: 0,
    token_expires_ms: nowMs + 80 * DAY,
    worker: null,
    manageable: true,
    unsent_ops: 0,
  };
  return [
    { ...base, id: 'dev_01J9Z6Q4W8R', name: 'Drop-in window tablet', sites: ['Drop-in centre'], last_seen_ms: nowMs - 12 * 60_000 },
    { ...base, id: 'dev_01J9Z7A2K3M', name: 'Van 2 tablet', sites: ['Street outreach team', 'Mobile van (north)'], last_seen_ms: nowMs - 3 * 3_600_000, clock_skew_ms: 11 * 60_000, clamped_count: 4 },
    { ...base, id: 'dev_01J9Z8C5T1P', name: 'Outreach bag 1', sites: ['Street outreach team'], last_seen_ms: nowMs - 11 * DAY, unsent_ops: 37, app_version: '0.2.9', token_expires_ms: nowMs + 9 * DAY },
    { ...base, id: 'dev_01J9Z9D7V4Q', name: 'Old tablet (lost)', sites: ['Drop-in centre'], last_seen_ms: nowMs - 45 * DAY, revoked_ms: nowMs - 40 * DAY, app_version: '0.2.4' },
  ];
}

export function demoConflicts(nowMs: number): Conflict[] {
  return [
    {
      id: 1,
      collection: 'contacts',
      record_id: '0192f1c2-7d3e-7a10-9c55-3e1b2a4c5d6e',
      site_id: 'site-dropin',
      field: 'setting',
      winner: { value: 'window', device_id: 'dev_01J9Z6Q4W8R', at_ms: nowMs - 26 * 3_600_000, device_name: 'Window tablet', worker: 'Olena' },
      loser: { value: 'fixed_site', device_id: 'dev_01J9Z7A2K3M', at_ms: nowMs - 27 * 3_600_000, device_name: 'Van 2 tablet', worker: 'Timur' },
      detected_ms: nowMs - 20 * 3_600_000,
      resolved_ms: null,
      resolution: null,
      record: { client_uic: 'MAIV287', occurred_at: new Date(nowMs - 26 * 3_600_000).toISOString(), commodity: null },
    },
    {
      id: 2,
      collection: 'clients',
      record_id: '0192f0aa-1b2c-7d3e-8f40-5a6b7c8d9e0f',
      site_id: 'site-street',
      field: 'birth_year',
      winner: { value: 1987, device_id: 'dev_01J9Z8C5T1P', at_ms: nowMs - 4 * DAY, device_name: 'Street team A', worker: 'AK' },
      loser: { value: 1978, device_id: 'dev_01J9Z7A2K3M', at_ms: nowMs - 4 * DAY - 600_000, device_name: 'Van 2 tablet', worker: 'Timur' },
      detected_ms: nowMs - 3 * DAY,
      resolved_ms: null,
      resolution: null,
      record: { client_uic: 'OLPE290', occurred_at: null, commodity: null },
    },
    {
      id: 3,
      collection: 'referrals',
      record_id: '0192ef10-2c3d-7e4f-9a50-6b7c8d9e0f1a',
      site_id: 'site-street',
      field: 'status',
      winner: { value: 'attended', device_id: 'dev_01J9Z8C5T1P', at_ms: nowMs - 9 * DAY, device_name: 'Street team A', worker: 'AK' },
      loser: { value: 'lost', device_id: 'dev_01J9Z6Q4W8R', at_ms: nowMs - 9 * DAY - 3_600_000, device_name: 'Window tablet', worker: 'Olena' },
      detected_ms: nowMs - 8 * DAY,
      resolved_ms: nowMs - 7 * DAY,
      resolution: 'accepted',
      record: { client_uic: 'MAIV287', occurred_at: new Date(nowMs - 12 * DAY).toISOString(), commodity: null },
    },
  ];
}

/** A client record as the duplicate review knows it, with the id of the site it was registered at. */
export interface DemoClient {
  record: ReviewRecord;
  siteId: string;
}

/** A merge written: `from` counts as `into` until it is undone. */
export interface DemoMerge {
  id: string;
  from: string;
  into: string;
  at_ms: number;
  undone_ms: number | null;
}

/** What the server's duplicate review works from. */
export interface DemoDuplicates {
  clients: DemoClient[];
  /** The pairs its matching finds (the same code, or one slip apart), before merges and dismissals. */
  candidates: { a: string; b: string; reason: DuplicateReason }[];
  merges: DemoMerge[];
  /** Pairs judged to be two people (`pairId`). */
  dismissed: Set<string>;
}

/** A record id of the demo's client records (UUIDs, as the server's). */
export const demoClientId = (n: string): string => `0192f4a0-1c2d-7e3f-8a4b-${n.padStart(12, '0')}`;

/** A pair's id whichever way round: the two record ids, sorted. */
export const pairId = (a: string, b: string): string => [a, b].sort().join('|');

/**
 * Clients registered twice: the same code at two sites (MAIV287), codes one slip apart (letters
 * swapped, the year one off), twice at the van (admins only: the coordinator does not work
 * there), and two merges in force.
 */
export function demoDuplicates(nowMs: number): DemoDuplicates {
  const name = (siteId: string) => DEMO_SITES.find((s) => s.id === siteId)?.name ?? siteId;
  const ago = (days: number | null) => (days === null ? null : new Date(nowMs - days * DAY).toISOString());
  const client = (
    n: string,
    code: string,
    gender: string | null,
    birthYear: number | null,
    siteId: string,
    firstDaysAgo: number | null,
    seen: [siteId: string, contacts: number][],
    lastDaysAgo: number | null,
  ): DemoClient => ({
    siteId,
    record: {
      id: demoClientId(n),
      code,
      gender,
      birth_year: birthYear,
      site: name(siteId),
      first_seen_at: ago(firstDaysAgo),
      contacts: seen.reduce((sum, [, c]) => sum + c, 0),
      last_seen_at: ago(lastDaysAgo),
      seen_at: seen.map(([s]) => name(s)),
    },
  });
  const clients = [
    client('a1', 'MAIV287', 'woman', 1987, 'site-dropin', 420, [['site-dropin', 19], ['site-street', 4]], 1),
    client('a2', 'MAIV287', 'woman', 1987, 'site-street', 40, [['site-street', 3]], 2),
    client('a3', 'MAIV288', 'woman', 1988, 'site-dropin', 5, [['site-dropin', 1]], 5),
    client('b1', 'OLPE290', 'man', 1990, 'site-street', 530, [['site-street', 38], ['site-dropin', 3]], 6),
    client('b2', 'OLEP290', 'man', 1990, 'site-dropin', 12, [['site-dropin', 1]], 12),
    client('d1', 'KOSE295', 'not_stated', null, 'site-van', 90, [['site-van', 5]], 8),
    client('d2', 'KOSE295', 'woman', 1995, 'site-van', null, [], null),
    client('e1', 'ZHAN188', 'woman', 1988, 'site-dropin', 600, [['site-dropin', 57]], 3),
    client('e2', 'ZAHN188', 'woman', 1988, 'site-street', 15, [['site-street', 2]], 9),
    client('f1', 'IRMA276', 'woman', 1976, 'site-van', 200, [['site-van', 14]], 4),
    client('f2', 'IRMA276', 'woman', 1976, 'site-van', 60, [['site-van', 1]], 60),
  ];
  const id = demoClientId;
  return {
    clients,
    candidates: [
      { a: id('a1'), b: id('a2'), reason: 'same_code' },
      { a: id('a1'), b: id('a3'), reason: 'near_code' },
      { a: id('a2'), b: id('a3'), reason: 'near_code' },
      { a: id('b1'), b: id('b2'), reason: 'near_code' },
      { a: id('d1'), b: id('d2'), reason: 'same_code' },
      { a: id('e1'), b: id('e2'), reason: 'near_code' },
      { a: id('f1'), b: id('f2'), reason: 'same_code' },
    ],
    merges: [
      { id: '0192f4b0-5e6f-7a1b-9c2d-000000000001', from: id('f2'), into: id('f1'), at_ms: nowMs - 20 * DAY, undone_ms: null },
      { id: '0192f4b0-5e6f-7a1b-9c2d-000000000002', from: id('e2'), into: id('e1'), at_ms: nowMs - 3 * DAY, undone_ms: null },
    ],
    dismissed: new Set(),
  };
}

/** Entries as the server writes them; those of its command line have no address. */
export function demoAudit(nowMs: number): AuditEntry[] {
  const rows: [actor: string, action: string, target: string, detail: string, address: string | null][] = [
    ['user:coordinator', 'export', 'contacts', 'csv, 2026-10-01 to 2026-10-31, 2 site(s), 412 rows', '10.0.0.12'],
    ['user:coordinator', 'export', 'indicators', 'csv, 2026-10-01 to 2026-10-31, 2 site(s), 23 rows, small-cell suppression OFF', '10.0.0.12'],
    ['user:admin', 'conflict.resolve', '3', 'accepted referrals.status', '10.0.0.31'],
    ['cli', 'device.revoke', 'dev_01J9Z9D7V4Q', '', null],
    ['user:coordinator', 'login', 'coordinator', 'coordinator', '10.0.0.12'],
  ];
  return rows.map(([actor, action, target, detail, address], i) => ({
    id: rows.length - i,
    at_ms: nowMs - i * 5 * 3_600_000,
    actor,
    action,
    target,
    detail,
    address,
  }));
}

// ---------------------------------------------------------------------------------------------
// DHIS2: mappings as an admin imports them, checked and applied as the server does
// (`services/admin/dhis2/mapping.rs`, `payload.rs`), with made-up UIDs
// ---------------------------------------------------------------------------------------------

/** The demo mapping of PEPFAR's KP_PREV: every site, the total and the key-population rows. */
export const DEMO_KP_PREV_MAPPING = `${MAPPING_HEADER}
data_set,,,aOutpostKP1,,aMechanism1
org_unit,Drop-in centre,,aSiteDropIn,,
org_unit,Street outreach team,,aSiteStreet,,
org_unit,Mobile van (north),,aSiteVanNo1,,
value,kp_prev,,aKpPrevTot1,,
value,kp_prev,kp_type=pwid,aKpPrevType,aCocPwid001,
value,kp_prev,kp_type=tg,aKpPrevType,aCocTg00001,
value,kp_prev,kp_type=fsw,aKpPrevType,aCocFsw0001,
value,kp_prev,kp_type=msm,aKpPrevType,aCocMsm0001,
value,kp_prev,kp_type=pwid;testing_status=known_positive,aKpPrevTest,aCocPwidKnP,
value,kp_prev,kp_type=pwid;testing_status=newly_tested_or_referred,aKpPrevTest,aCocPwidNew,
`;

/** A checked mapping. */
export interface DemoMapping {
  dataSet: string;
  /** Site id → org unit. */
  orgUnits: Map<string, string>;
  targets: {
    indicator: string;
    /** (dimension, category) in the table's order; empty for the indicator's own number. */
    cell: [string, string][];
    dataElement: string;
    categoryOptionCombo?: string;
    attributeOptionCombo?: string;
  }[];
}

const cellText = (cell: [string, string][]) => cell.map(([d, c]) => `${d}=${c}`).join(';');

/** A set's demo data by key (for the fake server). */
export function demoSet(key: string): DemoSet | undefined {
  return DEMO_SETS.find((s) => s.key === key);
}

/** The cell a mapping row names, in its table's dimension order, or why it names none. */
function cellOf(set: DemoSet, indicator: string, text: string): [string, string][] | string {
  if (text.trim() === '') return [];
  const parts = text.split(';').map((part) => part.split('=').map((x) => x.trim()));
  if (parts.some((p) => p.length !== 2 || !p[0] || !p[1])) return `${JSON.stringify(text)} is not dimension=category`;
  const tables = (set.indicators.find((i) => i.key === indicator)?.tables ?? []).filter((dims) => !dims.includes('site'));
  const table = tables.find((dims) => dims.length === parts.length && dims.every((d) => parts.some(([pd]) => pd === d)));
  if (!table) return `${indicator} has no table by ${parts.map(([d]) => d).join(' and ')}`;
  const cell: [string, string][] = [];
  for (const dimension of table) {
    const category = parts.find(([d]) => d === dimension)?.[1] ?? '';
    const known = set.dimensions[dimension].categories.map(([k]) => k);
    if (!known.includes(category)) return `${JSON.stringify(category)} is not a category of ${dimension} (${known.join(', ')})`;
    cell.push([dimension, category]);
  }
  return cell;
}

/**
 * Reads and checks a mapping as the server does: every problem with its row (`row N: column`),
 * or the mapping. The fake reads plain CSV (no quoted commas).
 */
export function checkDemoMapping(set: DemoSet, sites: readonly { id: string; name: string }[], csv: string): DemoMapping | Problem[] {
  const problem = (row: number, field: string, code: string, message: string): Problem => ({ field: `row ${row}: ${field}`, code, message });
  const lines = csv.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  if (header.join(',') !== MAPPING_HEADER) return [problem(1, 'header', 'wrong_header', `the first row must be ${MAPPING_HEADER}`)];
  const errors: Problem[] = [];
  let dataSet: { row: number; uid: string; aoc?: string } | null = null;
  const orgUnits = new Map<string, string>();
  const orgRows = new Map<string, number>();
  const targets: (DemoMapping['targets'][number] & { row: number })[] = [];
  lines.slice(1).forEach((line, i) => {
    const row = i + 2;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length !== 6) {
      errors.push(problem(row, 'row', 'unreadable', `cannot be read: found record with ${fields.length} fields, but the previous record has 6 fields`));
      return;
    }
    const [kind, key, cell, uid, coc, aoc] = fields;
    const optionalUid = (name: string, value: string): string | undefined => {
      if (value === '') return undefined;
      if (!isUid(value)) errors.push(problem(row, name, 'malformed_uid', `${JSON.stringify(value)} is not a DHIS2 identifier (11 letters and digits, a letter first)`));
      return value;
    };
    if (!isUid(uid)) errors.push(problem(row, 'uid', 'malformed_uid', `${JSON.stringify(uid)} is not a DHIS2 identifier (11 letters and digits, a letter first)`));
    if (kind === 'data_set') {
      const attribute = optionalUid('attribute_option_combo', aoc);
      if (dataSet) errors.push(problem(row, 'kind', 'duplicate', `a second data_set row (the first is row ${dataSet.row})`));
      else dataSet = { row, uid, aoc: attribute };
    } else if (kind === 'org_unit') {
      const site = sites.find((s) => s.name === key || s.id === key);
      if (!site) errors.push(problem(row, 'key', 'unknown_site', `no site is named ${JSON.stringify(key)}`));
      else if (orgUnits.has(site.id)) errors.push(problem(row, 'key', 'duplicate', `site ${JSON.stringify(site.name)} is given an org unit twice`));
      else if (orgRows.has(uid)) errors.push(problem(row, 'uid', 'duplicate', `org unit ${uid} is already site of row ${orgRows.get(uid)}`));
      else {
        orgRows.set(uid, row);
        orgUnits.set(site.id, uid);
      }
    } else if (kind === 'value') {
      if (!set.indicators.some((d) => d.key === key)) {
        errors.push(problem(row, 'key', 'unknown_indicator', `${JSON.stringify(key)} is not an indicator of ${set.name} (${set.indicators.map((d) => d.key).join(', ')})`));
        return;
      }
      const categoryOptionCombo = optionalUid('category_option_combo', coc);
      const attributeOptionCombo = optionalUid('attribute_option_combo', aoc);
      const found = cellOf(set, key, cell);
      if (typeof found === 'string') errors.push(problem(row, 'cell', 'unknown_cell', found));
      else targets.push({ row, indicator: key, cell: found, dataElement: uid, categoryOptionCombo, attributeOptionCombo });
    } else {
      errors.push(problem(row, 'kind', 'unknown_kind', `${JSON.stringify(kind)} is not data_set, org_unit or value`));
    }
  });
  const chosen = dataSet as { row: number; uid: string; aoc?: string } | null;
  if (!chosen) return [...errors, problem(0, 'data_set', 'missing', 'no data_set row: the mapping must name the DHIS2 data set')];
  if (targets.length === 0 && errors.length === 0) errors.push(problem(0, 'value', 'missing', 'no value row: the mapping sends nothing'));
  const sources = new Map<string, number>();
  const places = new Map<string, number>();
  for (const t of targets) {
    t.attributeOptionCombo ??= chosen.aoc;
    const source = `${t.indicator}|${cellText(t.cell)}`;
    const first = sources.get(source);
    if (first !== undefined) {
      const what = t.cell.length === 0 ? 'its total' : `cell ${JSON.stringify(cellText(t.cell))}`;
      errors.push(problem(t.row, 'key', 'duplicate', `${t.indicator} ${what} is mapped twice (row ${first} too)`));
    } else sources.set(source, t.row);
    const place = `${t.dataElement}|${t.categoryOptionCombo ?? ''}|${t.attributeOptionCombo ?? ''}`;
    const firstPlace = places.get(place);
    if (firstPlace !== undefined) {
      errors.push(problem(t.row, 'uid', 'duplicate_target', `data element ${t.dataElement} with these combos is the target of row ${firstPlace} too`));
    } else places.set(place, t.row);
  }
  if (errors.length > 0) return errors;
  return { dataSet: chosen.uid, orgUnits, targets: targets.map(({ row: _row, ...t }) => t) };
}

/**
 * What a period of a set would send (the server's `dhis2::preview`): each site's report placed
 * by the mapping, numbers hidden or not computable held back, the set's numbers the mapping
 * leaves out, the sites without an org unit.
 */
export function demoDhis2Preview(
  set: DemoSet,
  mapping: DemoMapping,
  filter: Filter,
  sites: DashboardSite[],
  programme: Pick<Organisation, 'name' | 'nsp_target'>,
  period: { dhis2: string; adx: string },
): Dhis2Preview {
  const values: OutValue[] = [];
  const heldBack: HeldBack[] = [];
  const without: string[] = [];
  let whole: SetReport | null = null;
  for (const site of [...sites].sort((a, b) => a.name.localeCompare(b.name))) {
    const report = demoSetReport(set, { ...filter, sites: [site.id] }, [site], programme);
    whole ??= report;
    const orgUnit = mapping.orgUnits.get(site.id);
    if (!orgUnit) {
      without.push(site.name);
      continue;
    }
    for (const target of mapping.targets) {
      const indicator = report.indicators.find((i) => i.key === target.indicator);
      if (!indicator) continue;
      let found: { value: number | null; suppressed: boolean } = indicator;
      if (target.cell.length > 0) {
        const dims = target.cell.map(([d]) => d);
        const table = indicator.tables.find((tb) => tb.dimensions.join() === dims.join());
        found = table?.cells.find((c) => c.keys.join() === target.cell.map(([, c2]) => c2).join()) ?? { value: null, suppressed: false };
      }
      const cell = cellText(target.cell);
      if (found.value === null) {
        heldBack.push({ site: site.name, indicator: target.indicator, cell, reason: found.suppressed ? 'suppressed' : 'not_computable' });
      } else {
        values.push({
          site: site.name,
          org_unit: orgUnit,
          indicator: target.indicator,
          cell,
          data_element: target.dataElement,
          ...(target.categoryOptionCombo ? { category_option_combo: target.categoryOptionCombo } : {}),
          ...(target.attributeOptionCombo ? { attribute_option_combo: target.attributeOptionCombo } : {}),
          value: String(found.value),
        });
      }
    }
  }
  const mapped = new Set(mapping.targets.map((t) => `${t.indicator}|${cellText(t.cell)}`));
  const unmapped: Unmapped[] = [];
  for (const indicator of (whole as SetReport | null)?.indicators ?? []) {
    if (!mapped.has(`${indicator.key}|`)) unmapped.push({ indicator: indicator.key, cell: '' });
    for (const table of indicator.tables.filter((tb) => !tb.dimensions.includes('site'))) {
      for (const c of table.cells) {
        const cell = cellText(table.dimensions.map((d, i) => [d, c.keys[i]] as [string, string]));
        if (!mapped.has(`${indicator.key}|${cell}`)) unmapped.push({ indicator: indicator.key, cell });
      }
    }
  }
  return {
    set: set.key,
    period: period.dhis2,
    adx_period: period.adx,
    data_set: mapping.dataSet,
    suppressed: filter.suppress,
    values,
    held_back: heldBack,
    unmapped,
    sites_without_org_unit: without,
  };
}
