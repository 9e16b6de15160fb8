// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Stock from './Stock.svelte';
import { fakeSession, renderWith } from '../test/render';

describe('stock', () => {
  it('flags low stock and records a delivery', async () => {
    const { backend, session } = await fakeSession();
    renderWith(Stock, session);
    const foilRow = (await screen.findByRole('rowheader', { name: /^Foil/ })).closest('tr')!;
    expect(within(foilRow).getByText('Low')).toBeTruthy(); // 80 received, threshold 100
    expect(within(foilRow).getByText('80')).toBeTruthy();

    await fireEvent.click(within(foilRow).getByRole('button', { name: 'Receive' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 100' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Quantity (pieces): add 10' }));
    await fireEvent.input(screen.getByLabelText('Batch (optional)'), { target: { value: ' B-17 ' } });
    await fireEvent.input(screen.getByLabelText('Expiry date (optional)'), { target: { value: '2027-03-31' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save delivery' }));
    await waitFor(() => expect(backend.callsOf('record_stock_movement')).toHaveLength(1));
    expect(backend.callsOf('record_stock_movement')).toEqual([
      { movement: { commodity: 'foil', quantity: 110, kind: 'received', batch: 'B-17', expiry_date: '2027-03-31' } },
    ]);
    const updated = (await screen.findByRole('rowheader', { name: /^Foil/ })).closest('tr')!;
    await waitFor(() => expect(within(updated).getByText('190')).toBeTruthy());
    expect(within(updated).queryByText('Low')).toBeNull();
  });
});
