// @vitest-environment happy-dom
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import GroupTally from './GroupTally.svelte';
import { fakeSession, renderWith } from '../test/render';

describe('group tally', () => {
  it('puts the counting grid first, before the event and setting', async () => {
    const { session } = await fakeSession();
    renderWith(GroupTally, session);
    const grid = screen.getByRole('button', { name: 'Add one: Women, 20–24' });
    const event = screen.getByLabelText('Event name (optional)');
    expect(grid.compareDocumentPosition(event) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
  });

  it('counts people with big taps and saves the non-empty cells', async () => {
    const { backend, session } = await fakeSession();
    renderWith(GroupTally, session);
    const women2024 = screen.getByRole('button', { name: 'Add one: Women, 20–24' });
    await fireEvent.click(women2024);
    await fireEvent.click(women2024);
    await fireEvent.click(women2024);
    await fireEvent.click(screen.getByRole('button', { name: 'Remove one: Women, 20–24' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Add one: Men, 50+' }));
    expect(screen.getByText('Total: 3')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Event name (optional)'), { target: { value: 'Summer fest' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Nightlife kit' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save tally' }));
    await waitFor(() => expect(backend.callsOf('save_group_tally')).toHaveLength(1));
    const [{ tally }] = backend.callsOf('save_group_tally') as { tally: Record<string, unknown> }[];
    expect(tally).toMatchObject({
      setting: 'nightlife',
      event_name: 'Summer fest',
      people: [
        { gender: 'woman', age_band: '20_24', count: 2 },
        { gender: 'man', age_band: '50_plus', count: 1 },
      ],
    });
    expect((tally.items as unknown[]).length).toBe(5);
    expect(screen.getByText('Total: 0')).toBeTruthy();
    expect((screen.getByLabelText('Event name (optional)') as HTMLInputElement).value).toBe('Summer fest');
  });

  it('clears the whole count only on a second tap', async () => {
    const { session } = await fakeSession();
    renderWith(GroupTally, session);
    await fireEvent.click(screen.getByRole('button', { name: 'Add one: Women, 20–24' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Start over' }));
    expect(screen.getByText('Total: 1')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByText('Total: 1')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Start over' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Yes, clear all counts' }));
    expect(screen.getByText('Total: 0')).toBeTruthy();
  });
});
