/**
 * The in-memory dashboard server's demo data (`fakeApi.ts` serves it): plausible numbers that
 * scale with the period and the sites chosen (the donor reports' are `fakeDonorData.ts`), the catalogue the real
 * server's tablet fixtures recorded, devices, conflicts, likely duplicate clients and audit
 * entries.
 */
import type {
  AuditEntry,
  Breakdown,
  Catalogue,
  Commodity,
  Conflict,
  DashboardSite,
  Device,
  DuplicateReason,
  Indicator,
  IndicatorsReport,
  KitTemplate,
  Organisation,
  PublishedForm,
  ReviewRecord,
  StockReport,
  SurveyResults,
  Trends,
  UicScheme,
  Unit,
} from './api';
import { recordedAnswer } from '../lib/fixtures';
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
export function seeded(text: string): () => number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return () => {
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return (h >>> 0) / 4294967296;
  };
}

export function cell(key: string, value: number, suppress: boolean, people: boolean) {
  const hidden = suppress && people && value > 0 && value < 5;
  return { key, value: hidden ? null : value, suppressed: hidden };
}

export function split(total: number, weights: number[]): number[] {
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
