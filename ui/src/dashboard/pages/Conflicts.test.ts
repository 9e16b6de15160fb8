// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { dashboardOn, renderPage } from '../testing';
import Conflicts from './Conflicts.svelte';

const openRows = () => screen.queryAllByTestId('conflict-row').filter((r) => r.dataset.status === 'open');

describe('conflicts page', () => {
  it('lists open conflicts with both values, who wrote them and when', async () => {
    const { state } = await dashboardOn();
    renderPage(Conflicts, state);
    await waitFor(() => expect(openRows()).toHaveLength(2));
    const first = openRows()[0];
    expect(first.dataset.id).toBe('cf-2'); // the oldest first
    expect(within(first).getByTestId('conflict-winner').textContent).toBe('1987');
    expect(within(first).getByTestId('conflict-loser').textContent).toBe('1978');
    expect(within(first).getByText('Field: Year of birth')).toBeTruthy();
    const second = openRows()[1];
    expect(within(second).getByTestId('conflict-winner').textContent).toBe('Window');
    expect(within(second).getByTestId('conflict-loser').textContent).toBe('Fixed site');
    expect(within(second).getAllByText(/^Device 01J9Z/)).toHaveLength(2);
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
    expect(api.callsOf('resolveConflict')).toEqual([['cf-1', 'revert']]);
    const resolved = screen.getAllByTestId('conflict-row').find((r) => r.dataset.id === 'cf-1')!;
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
    await waitFor(() => expect(api.callsOf('resolveConflict')).toEqual([['cf-2', 'accept']]));

    await fireEvent.click(screen.getByTestId('conflicts-all'));
    await waitFor(() => expect(screen.getAllByTestId('conflict-row')).toHaveLength(3));
    expect(api.callsOf('conflicts').at(-1)).toEqual(['all']);
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
