import { describe, expect, it } from 'vitest';
import type { Indicator } from '../api';
import { breakdownTables, groupIndicators, KNOWN_INDICATORS, rowLabelKeys } from './indicators';

function indicator(key: string, breakdowns: Indicator['breakdowns'] = []): Indicator {
  return { key, value: 1, suppressed: false, unit: 'people', formula: `${key} formula`, breakdowns };
}

describe('indicator sections', () => {
  it('hold every key of the contract (docs/dashboard-api.md) once', () => {
    const contract = `people_reached new_clients returning_clients reached_with_package contacts tally_people
      secondary_distribution needle_syringes_distributed syringes_returned return_rate syringes_per_pwid_per_year
      nsp_people nsp_regular_access condoms_distributed naloxone_distributed overdose_reversals tests_done
      tests_reactive linked_to_care referrals_issued referrals_completed ost_referrals`.split(/\s+/);
    expect([...KNOWN_INDICATORS].sort()).toEqual(contract.sort());
  });

  it('follow report order whatever order the server sends, and drop empty sections', () => {
    const sections = groupIndicators([indicator('ost_referrals'), indicator('contacts'), indicator('people_reached'), indicator('new_clients')]);
    expect(sections.map((s) => [s.id, s.indicators.map((i) => i.key)])).toEqual([
      ['reach', ['people_reached', 'new_clients']],
      ['contacts', ['contacts']],
      ['referrals', ['ost_referrals']],
    ]);
  });

  it('keep indicators the dashboard does not know yet, in "other"', () => {
    const sections = groupIndicators([indicator('contacts'), indicator('hepatitis_b_vaccinations')]);
    expect(sections.at(-1)).toMatchObject({ id: 'other', indicators: [{ key: 'hepatitis_b_vaccinations' }] });
  });

  it('list breakdown tables with rows, in indicator order', () => {
    const [reach] = groupIndicators([
      indicator('people_reached', [
        { dimension: 'gender', rows: [{ key: 'man', value: 3, suppressed: false }] },
        { dimension: 'site', rows: [] },
      ]),
    ]);
    expect(breakdownTables(reach).map((b) => `${b.indicator.key}/${b.breakdown.dimension}`)).toEqual(['people_reached/gender']);
  });

  it("label rows with the dashboard's words first, then the tablet app's", () => {
    expect(rowLabelKeys('target', 'ost')).toEqual(['dashboard.row.target.ost', 'referral.ost', 'dashboard.row.any.ost']);
    expect(rowLabelKeys('age_band_2', 'under_25')).toEqual(['dashboard.row.age_band_2.under_25', 'dashboard.row.any.under_25']);
    // Five-year bands share the coarse bands' labels where they are the same band.
    expect(rowLabelKeys('age_band_5', '30_34')).toEqual(['dashboard.row.age_band_5.30_34', 'age_band.30_34', 'dashboard.row.any.30_34']);
  });
});
