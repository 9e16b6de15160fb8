// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import QuickLog from './QuickLog.svelte';
import { fakeSession, renderWith } from '../test/render';
import { tapCode } from '../test/pads';

describe('window quick-log', () => {
  it('saves the usual kit for a returning client in two taps after the code', async () => {
    const { backend, session } = await fakeSession();
    renderWith(QuickLog, session);
    let taps = 0;
    const tap = async (el: HTMLElement) => {
      taps += 1;
      await fireEvent.click(el);
    };

    await fireEvent.input(screen.getByLabelText('Client code'), { target: { value: 'maiv2' } });
    await tap(await screen.findByRole('button', { name: /^MAIV287/ }));
    expect(await screen.findByText('Usual kit (as last time)')).toBeTruthy();
    await tap(await screen.findByRole('button', { name: 'Confirm for MAIV287' }));

    expect(taps).toBeLessThanOrEqual(3);
    const saved = backend.callsOf('save_contact') as { contact: unknown }[];
    expect(saved).toHaveLength(1);
    expect(saved[0].contact).toEqual({
      client: { id: backend.clients.find((c) => c.uic === 'MAIV287')!.id },
      setting: 'window',
      services: ['kit'],
      collecting_for: 0,
      items: [
        { commodity: 'syringe_1ml', quantity: 20 },
        { commodity: 'alcohol_swab', quantity: 20 },
        { commodity: 'sterile_water', quantity: 4 },
        { commodity: 'condom_external', quantity: 2 },
      ],
      referrals: [],
      tests: [],
    });
    expect(backend.callsOf('find_clients')).toContainEqual({ prefix: 'MAIV2' });
    // Ready for the next client.
    expect((screen.getByLabelText('Client code') as HTMLInputElement).value).toBe('');
  });

  it("lists today's clients to pick with no typing, and says plainly when one was served today", async () => {
    const { backend, session } = await fakeSession();
    renderWith(QuickLog, session);
    await fireEvent.input(screen.getByLabelText('Client code'), { target: { value: 'MAIV287' } });
    await fireEvent.click(await screen.findByRole('button', { name: /^MAIV287/ }));
    expect(screen.queryByTestId('repeat-visit'), 'no visit today yet').toBeNull();
    await fireEvent.click(await screen.findByRole('button', { name: 'Confirm for MAIV287' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));

    // The client comes back: one tap on today's list, one on Confirm; nothing typed.
    const searches = backend.callsOf('find_clients').length;
    const list = await screen.findByTestId('today-clients');
    await fireEvent.click(within(list).getByRole('button', { name: /^MAIV287/ }));
    const repeat = await screen.findByTestId('repeat-visit');
    expect(repeat.textContent).toMatch(/Already served today at .+: .*Syringe 1 ml/);
    const confirm = screen.getByRole('button', { name: 'Confirm for MAIV287' }) as HTMLButtonElement;
    expect(confirm.disabled, 'a repeat visit is shown, not refused').toBe(false);
    await fireEvent.click(confirm);
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(2));
    expect(backend.callsOf('find_clients')).toHaveLength(searches);
  });

  it('takes the code on its own pad, so the system keyboard never covers Confirm', async () => {
    const { backend, session } = await fakeSession();
    renderWith(QuickLog, session);
    // The code field asks the tablet for no keyboard of its own.
    expect(screen.getByLabelText('Client code').getAttribute('inputmode')).toBe('none');
    await tapCode('MAIX');
    const pad = within(screen.getByRole('group', { name: 'Client code keys' }));
    await fireEvent.click(pad.getByRole('button', { name: 'Delete the last character' }));
    await tapCode('V');
    expect((screen.getByLabelText('Client code') as HTMLInputElement).value).toBe('MAIV');
    await fireEvent.click(await screen.findByRole('button', { name: /^MAIV287/ }));
    expect(await screen.findByText('Usual kit (as last time)')).toBeTruthy();
    // With a client chosen the pad makes way for the kit.
    expect(screen.queryByRole('group', { name: 'Client code keys' })).toBeNull();
    expect(backend.callsOf('find_clients')).toContainEqual({ prefix: 'MAIV' });
    await fireEvent.click(screen.getByRole('button', { name: 'Another client' }));
    await tapCode('MA');
    await fireEvent.click(within(screen.getByRole('group', { name: 'Client code keys' })).getByRole('button', { name: 'Clear' }));
    expect((screen.getByLabelText('Client code') as HTMLInputElement).value).toBe('');
  });

  it("finds a client registered at another site (the organisation's client index) and serves them here", async () => {
    const { backend, session } = await fakeSession();
    renderWith(QuickLog, session);
    await fireEvent.input(screen.getByLabelText('Client code'), { target: { value: 'MAPE' } });
    const found = await screen.findByRole('button', { name: /^MAPE290/ });
    expect(within(found).getByText('Registered at Street outreach team')).toBeTruthy();
    await fireEvent.click(found);
    await fireEvent.click(await screen.findByRole('button', { name: 'Confirm for MAPE290' }));
    const saved = backend.callsOf('save_contact') as { contact: { client: unknown } }[];
    expect(saved[0].contact.client).toEqual({ id: backend.clients.find((c) => c.uic === 'MAPE290')!.id });
  });

  it('lets the worker change a quantity before confirming', async () => {
    const { backend, session } = await fakeSession();
    renderWith(QuickLog, session);
    await fireEvent.input(screen.getByLabelText('Client code'), { target: { value: 'MAIV287' } });
    await fireEvent.click(await screen.findByRole('button', { name: /^MAIV287/ }));
    const fewer = await screen.findByRole('button', { name: 'Syringe 1 ml (insulin, fixed needle): one less' });
    await fireEvent.click(fewer);
    await fireEvent.click(screen.getByRole('button', { name: 'Confirm for MAIV287' }));
    const saved = backend.callsOf('save_contact') as { contact: { items: unknown[] } }[];
    expect(saved[0].contact.items[0]).toEqual({ commodity: 'syringe_1ml', quantity: 19 });
  });

  it('offers to register a new client when no code matches', async () => {
    const { session } = await fakeSession();
    renderWith(QuickLog, session);
    await fireEvent.input(screen.getByLabelText('Client code'), { target: { value: 'ZZZZ' } });
    await fireEvent.click(await screen.findByRole('button', { name: 'New client: ask the code questions' }));
    expect(session.screen).toBe('contact');
    expect(session.contactSetting).toBe('window');
  });

  it("shows the client's open referrals and records an outcome without leaving the queue", async () => {
    const { backend, session } = await fakeSession();
    renderWith(QuickLog, session);
    await fireEvent.input(screen.getByLabelText('Client code'), { target: { value: 'MAIV288' } });
    await fireEvent.click(await screen.findByRole('button', { name: /^MAIV288/ }));
    expect(await screen.findByRole('heading', { name: 'Open referrals for MAIV288' })).toBeTruthy();
    const client = backend.clients.find((c) => c.uic === 'MAIV288')!;
    expect(backend.callsOf('open_referrals')).toEqual([{ client: client.id }]);
    const ost = screen.getByRole('group', { name: 'What happened with the referral: Opioid substitution (OST)' });
    expect(screen.getByText(/Issued 5 days ago/)).toBeTruthy();
    await fireEvent.click(within(ost).getByRole('button', { name: 'Attended' }));
    expect(await screen.findByText('Saved: Opioid substitution (OST) — Attended.')).toBeTruthy();
    await waitFor(() => expect(screen.queryByRole('group', { name: /What happened with the referral/ })).toBeNull());
    expect(backend.referrals.find((r) => r.client_id === client.id)?.status).toBe('attended');

    // The visit itself is saved as usual.
    await fireEvent.click(screen.getByRole('button', { name: 'Confirm for MAIV288' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
  });

  it('keeps a referral whose outcome could not be saved', async () => {
    const { backend, session } = await fakeSession();
    renderWith(QuickLog, session);
    await fireEvent.input(screen.getByLabelText('Client code'), { target: { value: 'MAIV288' } });
    await fireEvent.click(await screen.findByRole('button', { name: /^MAIV288/ }));
    const ost = await screen.findByRole('group', { name: 'What happened with the referral: Opioid substitution (OST)' });
    backend.failures.set('update_referral', { code: 'storage_unwritable', message: 'read-only file system' });
    await fireEvent.click(within(ost).getByRole('button', { name: 'Declined' }));
    expect(await screen.findByText(/storage cannot be written/)).toBeTruthy();
    expect(screen.getByRole('group', { name: 'What happened with the referral: Opioid substitution (OST)' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Undo' })).toBeNull();
  });
});
