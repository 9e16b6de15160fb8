import { describe, expect, it } from 'vitest';
import type { StockLevel, StockMovement } from '../api';
import { historyCommodities, signedQuantity, sortLevels, stockSeries } from './stock';

function level(site: string, commodity: string, low: boolean, days: number | null): StockLevel {
  return { site_id: site, site_name: site, commodity, name: commodity, level: 10, low_threshold: 5, low, status: low ? 'low' : 'ok', used_per_day: 1, days_left: days };
}

describe('stock page', () => {
  it('lists low stock first, then the fewest days left', () => {
    const sorted = sortLevels([level('A', 'swab', false, 40), level('B', 'syringe', true, 12), level('A', 'water', false, 3), level('A', 'foil', false, null)]);
    expect(sorted.map((l) => l.commodity)).toEqual(['syringe', 'water', 'swab', 'foil']);
  });

  it('signs movements by direction', () => {
    const m = (kind: string, quantity: number) => ({ id: '1', site_id: 's', commodity: 'c', kind, quantity, occurred_at: '' }) as StockMovement;
    expect(signedQuantity(m('received', 100))).toBe(100);
    expect(signedQuantity(m('transfer_out', 30))).toBe(-30);
    expect(signedQuantity(m('lost', 2))).toBe(-2);
    expect(signedQuantity(m('count_correction', -5))).toBe(-5);
  });

  it('draws one series per site, carrying levels forward between movements', () => {
    const history = [
      { date: '2026-10-01', site_id: 'A', commodity: 'syringe', level: 100 },
      { date: '2026-10-03', site_id: 'B', commodity: 'syringe', level: 50 },
      { date: '2026-10-05', site_id: 'A', commodity: 'syringe', level: 70 },
      { date: '2026-10-05', site_id: 'A', commodity: 'swab', level: 9 },
    ];
    expect(stockSeries(history, 'syringe')).toEqual({
      dates: ['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-05'],
      series: [
        { siteId: 'A', levels: [100, 100, 100, 100, 70] },
        { siteId: 'B', levels: [null, null, 50, 50, 50] },
      ],
    });
    // Every day up to today, evenly spaced, across a month's end.
    const long = stockSeries(history, 'syringe', '2026-11-02');
    expect(long.dates).toHaveLength(33);
    expect(long.dates.slice(29, 33)).toEqual(['2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02']);
    expect(long.series[0].levels.at(-1)).toBe(70);
    expect(historyCommodities(history, [level('A', 'swab', true, 1)])).toEqual(['swab', 'syringe']);
  });
});
