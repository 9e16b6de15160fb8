// @vitest-environment happy-dom
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ContactForm from './ContactForm.svelte';
import { fakeSession, renderWith } from '../test/render';
import type { UicQuestion } from '../lib/logic/uic';

async function answer(mother: string, father: string, sex: 'Man' | 'Woman' | 'Other', year: string) {
  await fireEvent.input(screen.getByLabelText("Mother's first name"), { target: { value: mother } });
  await fireEvent.input(screen.getByLabelText("Father's first name"), { target: { value: father } });
  await fireEvent.click(screen.getByRole('radio', { name: sex }));
  await fireEvent.input(screen.getByLabelText('Year of birth'), { target: { value: year } });
}

describe('outreach contact', () => {
  it('recognises a returning client from the code answers and never sends the answers on', async () => {
    const { backend, session } = await fakeSession();
    const onsaved = vi.fn();
    renderWith(ContactForm, session, { onsaved });
    await answer('Maria', 'Ivan', 'Woman', '1987');
    expect(await screen.findByText('MAIV287')).toBeTruthy();
    expect(await screen.findByText(/Returning client MAIV287/)).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: 'Counselling' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Injecting kit' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());

    const [{ contact }] = backend.callsOf('save_contact') as { contact: Record<string, unknown> }[];
    expect(contact.client).toEqual({ id: backend.clients.find((c) => c.uic === 'MAIV287')!.id });
    expect(contact.setting).toBe('street_outreach');
    expect(contact.services).toEqual(['kit', 'counselling']);
    expect(contact.items).toEqual([
      { commodity: 'syringe_1ml', quantity: 10 },
      { commodity: 'alcohol_swab', quantity: 10 },
      { commodity: 'sterile_water', quantity: 2 },
      { commodity: 'condom_external', quantity: 2 },
    ]);

    // The answers went to build_uic and nowhere else.
    const elsewhere = JSON.stringify(backend.calls.filter((c) => c.command !== 'build_uic'));
    expect(elsewhere).not.toMatch(/Maria|Ivan|1987"/);
    expect(JSON.stringify(backend.callsOf('build_uic'))).toMatch(/Maria/);
  });

  it('registers a new client with gender and key groups', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    await answer('Olga', 'Petr', 'Woman', '1990');
    expect(await screen.findByText('New client OLPE290')).toBeTruthy();
    await fireEvent.click(screen.getByRole('radio', { name: 'Trans woman' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Sex work' }));
    await fireEvent.click(screen.getByRole('radio', { name: 'Nightlife / festival' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Opioid substitution (OST)' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
    const [{ contact }] = backend.callsOf('save_contact') as { contact: Record<string, unknown> }[];
    expect(contact.client).toEqual({ new: { uic: 'OLPE290', gender: 'trans_woman', birth_year: 1990, key_groups: ['sex_work'] } });
    expect(contact.setting).toBe('nightlife');
    expect(contact.referrals).toEqual([{ target: 'ost' }]);
    expect(contact.services).toEqual(['referral']);
  });

  it('asks the year of birth once and keeps it on the new client', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    expect(screen.getAllByLabelText(/Year of birth/)).toHaveLength(1);
    await answer('Olga', 'Petr', 'Woman', '1990');
    expect(await screen.findByText('New client OLPE290')).toBeTruthy();
    // The new-client part shows the year it got from the code questions, with no field of its own.
    expect(screen.getAllByLabelText(/Year of birth/)).toHaveLength(1);
    expect(screen.getByText('Year of birth: 1990 (from the code questions)')).toBeTruthy();

    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { client: unknown } }[];
    expect(contact.client).toEqual({ new: { uic: 'OLPE290', gender: 'not_stated', birth_year: 1990, key_groups: [] } });
    expect(backend.clients.find((c) => c.uic === 'OLPE290')?.birth_year).toBe(1990);
    // Only the year reaches the client record; the other answers stay in build_uic.
    expect(JSON.stringify(backend.calls.filter((c) => c.command !== 'build_uic'))).not.toMatch(/Olga|Petr/);
  });

  it('saves no year when the client did not give one, and does not ask again', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    await fireEvent.input(screen.getByLabelText("Mother's first name"), { target: { value: 'Olga' } });
    await fireEvent.input(screen.getByLabelText("Father's first name"), { target: { value: 'Petr' } });
    expect(await screen.findByText('New client OLPEXXX')).toBeTruthy();
    expect(screen.getAllByLabelText(/Year of birth/)).toHaveLength(1);
    expect(screen.queryByText(/from the code questions/)).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { client: unknown } }[];
    expect(contact.client).toEqual({ new: { uic: 'OLPEXXX', gender: 'not_stated', key_groups: [] } });
  });

  it('asks the year with the client when the code scheme has no year of birth', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, {
      onsaved: () => {},
      uicQuestions: ['mother_first_name', 'father_first_name', 'sex'] satisfies UicQuestion[],
    });
    expect(screen.queryAllByLabelText(/Year of birth/)).toHaveLength(0);
    await fireEvent.input(screen.getByLabelText("Mother's first name"), { target: { value: 'Olga' } });
    await fireEvent.input(screen.getByLabelText("Father's first name"), { target: { value: 'Petr' } });
    await fireEvent.click(screen.getByRole('radio', { name: 'Woman' }));
    expect(await screen.findByText('New client OLPE2XX')).toBeTruthy();
    await fireEvent.input(screen.getByLabelText('Year of birth (optional)'), { target: { value: '1985' } });
    expect(screen.getAllByLabelText(/Year of birth/)).toHaveLength(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { client: unknown } }[];
    expect(contact.client).toEqual({ new: { uic: 'OLPE2XX', gender: 'not_stated', birth_year: 1985, key_groups: [] } });
    expect(JSON.stringify(backend.callsOf('build_uic'))).not.toMatch(/birth_year/);
  });

  it('offers near matches for a possibly mistyped code', async () => {
    const { session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    await answer('Maria', 'Ivanna', 'Man', '1987'); // MAIV187: one character from MAIV287
    expect(await screen.findByText(/Similar codes already exist/)).toBeTruthy();
    expect(screen.getByRole('button', { name: /^MAIV287/ })).toBeTruthy();
  });

  it('explains what is missing instead of saving', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    expect(await screen.findByText(/Build the client code/)).toBeTruthy();
    expect(backend.callsOf('save_contact')).toEqual([]);
  });
});
