/**
 * The in-memory dashboard server's demo donor reports (`fakeApi.ts` serves them): a few indicators
 * of each indicator set, scaled with the period and the sites, and the DHIS2 mappings, previews and
 * checks as the server makes them. The rest of the demo data is `fakeData.ts`.
 */
import type {
  Cadence,
  Coverage,
  DashboardSite,
  Indicator,
  Dhis2Preview,
  HeldBack,
  Organisation,
  OutValue,
  SetIndicator,
  SetReport,
  SetSummary,
  Table,
  Unit,
  Unmapped,
} from './api';
import { COVERAGE_HIGH_ABOVE, SMALL_CELL } from './generated/api';
import { isUid, MAPPING_HEADER, type Problem } from './logic/dhis2';
import { daysBetween } from './logic/period';
import type { Filter } from './logic/query';
import { seeded, cell, split, DEMO_SITES } from './fakeData';

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
