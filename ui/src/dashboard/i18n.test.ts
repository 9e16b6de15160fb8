import { describe, expect, it } from 'vitest';
import { LANGUAGES, STOCK_KINDS } from '../lib/backend';
import { DICTS } from '../i18n/index.svelte';
import { COVERAGE_LEVELS, DHIS2_FORMATS, EXPORT_KINDS, KEY_GROUPS, POPULATIONS, ROLES, UNITS } from './api';
import { CADENCES } from './logic/donorReports';
import { DUPLICATE_REASONS } from './logic/duplicates';
import { ITEM_KINDS, RECEIVED_CLASSES } from './logic/packages';
import { DIMENSIONS, KNOWN_INDICATORS, SECTIONS } from './logic/indicators';
import { PRESETS } from './logic/period';
import { PAGES } from './logic/route';

describe('dashboard translations', () => {
  it('exist for every value shown through a dynamic key', () => {
    const needed = [
      ...KNOWN_INDICATORS.flatMap((k) => [`dashboard.ind.${k}`, `dashboard.ind_help.${k}`]),
      ...[...SECTIONS.map((s) => s.id), 'other', 'trends'].map((s) => `dashboard.section.${s}`),
      ...DIMENSIONS.map((d) => `dashboard.dim.${d}`),
      ...UNITS.filter((u) => u !== 'percent').map((u) => `dashboard.unit.${u}`),
      ...COVERAGE_LEVELS.map((c) => `dashboard.coverage.${c}`),
      ...PRESETS.map((p) => `dashboard.preset.${p}`),
      ...PAGES.map((p) => `dashboard.page.${p}`),
      ...CADENCES.flatMap((c) => [`dashboard.donor.kind.${c}`, `dashboard.donor.cadence.${c}`]),
      ...['survey', 'contact_questions'].map((k) => `dashboard.forms.kinds.${k}`),
      ...['published', 'retired'].map((s) => `dashboard.forms.statuses.${s}`),
      ...ROLES.map((r) => `dashboard.role.${r}`),
      ...DUPLICATE_REASONS.flatMap((r) => [`dashboard.duplicates.reason.${r}`, `dashboard.duplicates.reason_help.${r}`]),
      ...EXPORT_KINDS.flatMap((k) => [`dashboard.export_kind.${k}`, `dashboard.export_help.${k}`]),
      ...STOCK_KINDS.map((k) => `dashboard.movement.${k}`),
      ...['from_invalid', 'to_invalid', 'order', 'too_long'].map((p) => `dashboard.filter.problem.${p}`),
      ...['under_25', '25_plus', 'unknown'].map((a) => `dashboard.row.age_band_2.${a}`),
      ...['clients', 'contacts', 'referrals', 'test_results', 'overdose_reports'].map((c) => `dashboard.collection.${c}`),
      ...['network', 'forbidden', 'csrf_failed', 'invalid_query', 'not_found', 'conflict', 'clash', 'upstream', 'unknown'].map((c) => `dashboard.error.${c}`),
      ...['suppressed', 'not_computable'].map((r) => `dashboard.dhis2.reason.${r}`),
      ...['not_a_dhis2_period', 'period_not_over', 'site_without_org_unit', 'nothing_to_send'].map((c) => `dashboard.dhis2.problem.${c}`),
      ...DHIS2_FORMATS.map((f) => `dashboard.dhis2.download_${f}`),
      ...ITEM_KINDS.map((k) => `dashboard.packages.kind.${k}`),
      ...RECEIVED_CLASSES.map((c) => `dashboard.packages.received.${c}`),
      ...POPULATIONS.filter((p) => !(KEY_GROUPS as readonly string[]).includes(p)).map((p) => `dashboard.packages.population.${p}`),
    ];
    for (const lang of LANGUAGES) {
      expect(needed.filter((k) => !(k in DICTS[lang]) && !(`${k}#other` in DICTS[lang])), lang).toEqual([]);
    }
  });

  it('say "<5" only as the suppression mark, never translated differently', () => {
    for (const lang of LANGUAGES) {
      expect(DICTS[lang]['dashboard.filter.suppress_explain'], lang).toContain('<5');
    }
  });
});
