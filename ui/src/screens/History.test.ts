// @vitest-environment happy-dom
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import History from './History.svelte';
import { fakeSession, renderWith } from '../test/render';

async function withContactToday(editWindowMinutes = 24 * 60) {
  const { backend, session } = await fakeSession({ enrolled: true, editWindowMinutes });
  const { client_id } = await backend.saveContact({
    contact: {
      client: { new: { uic: 'OLPE290', gender: 'woman', key_groups: [] } },
      setting: 'window',
      services: ['kit'],
      collecting_for: 0,
      note: 'asked about OST',
      items: [
        { commodity: 'syringe_1ml', quantity: 20 },
        { commodity: 'alcohol_swab', quantity: 10 },
      ],
      referrals: [],
      tests: [],
    },
  });
  backend.calls = [];
  return { backend, session, client_id };
}

describe('history and corrections', () => {
  it('corrects a distribution by a reversal, never by changing the line', async () => {
    const { backend, session } = await withContactToday();
    renderWith(History, session);
    await fireEvent.click(await screen.findByRole('button', { name: /OLPE290/ }));
    const [correct] = screen.getAllByRole('button', { name: 'Correct' });
    await fireEvent.click(correct);
    const less = screen.getByRole('button', { name: 'Quantity to reverse: one less' });
    for (let i = 0; i < 15; i++) await fireEvent.click(less);
    await fireEvent.click(screen.getByRole('button', { name: 'Reverse 5' }));
    await waitFor(() => expect(backend.callsOf('reverse_line')).toHaveLength(1));
    const contactId = backend.contacts[0].id;
    expect(backend.callsOf('reverse_line')).toEqual([{ contactId, commodity: 'syringe_1ml', quantity: 5 }]);
    expect(backend.callsOf('update_contact')).toEqual([]);
    expect(await screen.findByText('Syringe 1 ml (insulin, fixed needle) × 15')).toBeTruthy();
  });

  it('edits the note and setting, sending only what changed', async () => {
    const { backend, session } = await withContactToday();
    renderWith(History, session);
    await fireEvent.click(await screen.findByRole('button', { name: /OLPE290/ }));
    const save = screen.getByRole('button', { name: 'Save changes' }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    await fireEvent.input(screen.getByRole('textbox'), { target: { value: 'asked about OST and HCV' } });
    await fireEvent.click(save);
    await waitFor(() => expect(backend.callsOf('update_contact')).toHaveLength(1));
    expect(backend.callsOf('update_contact')).toEqual([
      { id: backend.contacts[0].id, fields: { note: 'asked about OST and HCV' } },
    ]);
  });

  it('shows a locked contact read-only', async () => {
    const { backend, session } = await withContactToday(60);
    const yesterdayNoon = new Date();
    yesterdayNoon.setDate(yesterdayNoon.getDate() - 1);
    yesterdayNoon.setHours(12, 0, 0, 0);
    backend.contacts[0].occurred_at = yesterdayNoon.toISOString();
    renderWith(History, session);
    await fireEvent.click(await screen.findByRole('button', { name: /Day before/ }));
    await fireEvent.click(await screen.findByRole('button', { name: /OLPE290/ }));
    expect(screen.getByText(/can no longer be changed on the tablet/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Correct' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Save changes' })).toBeNull();
  });
});
