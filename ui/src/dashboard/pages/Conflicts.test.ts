// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import type { Conflict } from '../api';
import { dashboardOn, NOW, renderPage } from '../testing';
import Conflicts from './Conflicts.svelte';

const openRows = () => screen.queryAllByTestId('conflict-row').filter((r) => r.dataset.status === 'open');

describe('conflicts page', () => {
  it('lists open conflicts with both values, who wrote them and when', async () => {
    const { state } = await dashboardOn();
    renderPage(Conflicts, state);
    await waitFor(() => expect(openRows()).toHaveLength(2));
    const first = openRows()[0];
    expect(first.dataset.id).toBe('2'); // the oldest first
    expect(within(first).getByTestId('conflict-winner').textContent).toBe('1987');
    expect(within(first).getByTestId('conflict-loser').textContent).toBe('1978');
    expect(within(first).getByText('Field: Year of birth')).toBeTruthy();
    const second = openRows()[1];
    expect(within(second).getByTestId('conflict-winner').textContent).toBe('Window');
    expect(within(second).getByTestId('conflict-loser').textContent).toBe('Fixed site');
    // What the record is, and who wrote each value on which tablet.
    expect(within(second).getAllByTestId('conflict-record').map((e) => e.textContent)).toEqual([
      'client MAIV287',
      expect.stringMatching(/^on \d/),
    ]);
    expect(within(first).getAllByTestId('conflict-record').map((e) => e.textContent)).toEqual(['client OLPE290']);
    expect(within(second).getByText('Device Window tablet (Olena)')).toBeTruthy();
    expect(within(second).getByText('Device Van 2 tablet (Timur)')).toBeTruthy();
    expect(screen.getByTestId('conflicts-open-count').textContent?.trim()).toBe('Open conflicts: 2');
  });

  it('restores the other value after a confirmation and updates the row', async () => {
    const { api, state } = await dashboardOn();
    renderPage(Conflicts, state);
    await waitFor(() => expect(openRows()).toHaveLength(2));
    const row = openRows()[1];
    await fireEvent.click(within(row).getByTestId('conflict-revert'));
    expect(within(row).getByText(/It is written as a new change and sent to every tablet/)).toBeTruthy();
    await fireEvent.click(within(row).getByRole('button', { name: 'Cancel' }));
    expect(api.callsOf('resolveConflict')).toEqual([]);

    await fireEvent.click(within(row).getByTestId('conflict-revert'));
    await fireEvent.click(within(row).getByTestId('confirm-resolve'));
    await waitFor(() => expect(openRows()).toHaveLength(1));
    expect(api.callsOf('resolveConflict')).toEqual([[1, 'revert']]);
    const resolved = screen.getAllByTestId('conflict-row').find((r) => r.dataset.id === '1')!;
    expect(resolved.dataset.status).toBe('resolved');
    expect(within(resolved).getByTestId('conflict-resolution').textContent?.trim()).toBe('Other value restored');
    expect(screen.getByTestId('conflicts-open-count').textContent?.trim()).toBe('Open conflicts: 1');
    expect(state.openConflicts).toBe(1);
  });

  it('keeps the winner, and shows resolved ones on request', async () => {
    const { api, state } = await dashboardOn();
    renderPage(Conflicts, state);
    await waitFor(() => expect(openRows()).toHaveLength(2));
    await fireEvent.click(within(openRows()[0]).getByTestId('conflict-accept'));
    await fireEvent.click(screen.getByTestId('confirm-resolve'));
    await waitFor(() => expect(api.callsOf('resolveConflict')).toEqual([[2, 'accept']]));

    await fireEvent.click(screen.getByTestId('conflicts-all'));
    await waitFor(() => expect(screen.getAllByTestId('conflict-row')).toHaveLength(3));
    expect(api.callsOf('conflicts').at(-1)).toEqual(['all']);
  });

  it('shows "—" for a site, device or time the server does not know', async () => {
    const { api, state } = await dashboardOn();
    const unknown: Conflict = {
      id: 41,
      collection: 'clients',
      record_id: '0192f3aa-4b5c-7d6e-8f70-8a9b0c1d2e3f',
      site_id: null,
      field: 'gender',
      winner: { value: 'woman', device_id: null, at_ms: null, device_name: null, worker: null },
      loser: { value: null, device_id: 'dev_01J9Z6Q4W8R', at_ms: NOW - 3_600_000, device_name: null, worker: null },
      detected_ms: NOW - 30 * 86_400_000,
      resolved_ms: null,
      resolution: null,
      record: { client_uic: null, occurred_at: null, commodity: null },
    };
    api.conflictList.push(
      unknown,
      { ...unknown, id: 42, resolved_ms: NOW - 60_000, resolution: 'reverted' },
      { ...unknown, id: 43, resolved_ms: NOW - 120_000, resolution: null },
    );
    renderPage(Conflicts, state);
    await waitFor(() => expect(openRows()).toHaveLength(3));
    const row = openRows()[0];
    expect(row.dataset.id).toBe('41'); // the oldest first
    expect(within(row).getByTestId('conflict-site').textContent).toBe('· —');
    const [winnerDevice, loserDevice] = within(row).getAllByTestId('conflict-device').map((d) => d.textContent);
    expect([winnerDevice, loserDevice]).toEqual(['Device —', 'Device 9Z6Q4W8R']);
    const [winnerAt, loserAt] = within(row).getAllByTestId('conflict-at').map((d) => d.textContent);
    expect(winnerAt).toBe('—');
    expect(loserAt).not.toBe('—');
    expect(within(row).getByTestId('conflict-winner').textContent).toBe('Woman');
    expect(within(row).getByTestId('conflict-loser').textContent).toBe('(empty)');
    // The known site of the other conflicts is still named.
    expect(within(openRows()[1]).getByTestId('conflict-site').textContent).toBe('· Street outreach team');

    await fireEvent.click(screen.getByTestId('conflicts-all'));
    await waitFor(() => expect(screen.getAllByTestId('conflict-row')).toHaveLength(6));
    const resolution = (id: string) =>
      within(screen.getAllByTestId('conflict-row').find((r) => r.dataset.id === id)!).getByTestId('conflict-resolution').textContent?.trim();
    expect(resolution('3')).toBe('Winner kept');
    expect(resolution('42')).toBe('Other value restored');
    expect(resolution('43')).toBe('—');
  });

  it('resolves a conflict without a site or devices', async () => {
    const { api, state } = await dashboardOn();
    api.conflictList = [
      {
        id: 7,
        collection: 'contacts',
        record_id: '0192f3aa-4b5c-7d6e-8f70-8a9b0c1d2e3f',
        site_id: null,
        field: 'setting',
        winner: { value: 'window', device_id: null, at_ms: null, device_name: null, worker: null },
        loser: { value: 'fixed_site', device_id: null, at_ms: null, device_name: null, worker: null },
        detected_ms: NOW - 86_400_000,
        resolved_ms: null,
        resolution: null,
        record: { client_uic: null, occurred_at: null, commodity: null },
      },
    ];
    renderPage(Conflicts, state);
    await waitFor(() => expect(openRows()).toHaveLength(1));
    await fireEvent.click(within(openRows()[0]).getByTestId('conflict-accept'));
    await fireEvent.click(screen.getByTestId('confirm-resolve'));
    await waitFor(() => expect(openRows()).toHaveLength(0));
    expect(api.callsOf('resolveConflict')).toEqual([[7, 'accept']]);
    expect(screen.getByTestId('conflict-resolution').textContent?.trim()).toBe('Winner kept');
  });

  it('says when someone else resolved it first, and reloads', async () => {
    const { api, state } = await dashboardOn();
    renderPage(Conflicts, state);
    await waitFor(() => expect(openRows()).toHaveLength(2));
    api.failNext.resolveConflict = new ApiError(409, 'conflict', 'This conflict was already resolved.');
    await fireEvent.click(within(openRows()[0]).getByTestId('conflict-revert'));
    await fireEvent.click(screen.getByTestId('confirm-resolve'));
    const error = await screen.findByTestId('page-error');
    expect(error.textContent).toContain('Someone else has already resolved this conflict.');
    expect(error.textContent).toContain('This conflict was already resolved.');
    await waitFor(() => expect(api.callsOf('conflicts').length).toBeGreaterThanOrEqual(2));
  });
});
