// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ContactForm from './ContactForm.svelte';
import { fakeSession, renderWith } from '../test/render';
import { pickYear } from '../test/pads';
import type { FakeUicScheme } from '../lib/fakeBackend';

async function answer(mother: string, father: string, sex: 'Man' | 'Woman' | 'Other', year: string) {
  await fireEvent.input(screen.getByLabelText("Mother's first name"), { target: { value: mother } });
  await fireEvent.input(screen.getByLabelText("Father's first name"), { target: { value: father } });
  await fireEvent.click(screen.getByRole('radio', { name: sex }));
  await pickYear('Year of birth', year);
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

  it("asks the programme's contact questions with their skip logic and constraint, and saves the answers", async () => {
    const { backend, session } = await fakeSession();
    const onsaved = vi.fn();
    renderWith(ContactForm, session, { onsaved });
    await answer('Maria', 'Ivan', 'Woman', '1987');
    expect(await screen.findByText(/Returning client MAIV287/)).toBeTruthy();
    const section = await screen.findByTestId('contact-questions-drug_use');
    expect(within(section).getByText('Drug use questions')).toBeTruthy();
    expect(within(section).queryByText('On how many of the last 30 days did you inject?')).toBeNull();
    await fireEvent.click(within(section).getByRole('radio', { name: 'In the street' }));
    const days = await within(section).findByRole('textbox', { name: 'On how many of the last 30 days did you inject?' });
    await fireEvent.change(days, { target: { value: '45' } });
    expect(await within(section).findByText('Between 0 and 30.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    expect(await screen.findByText(/Some of the programme's questions need an answer/)).toBeTruthy();
    expect(backend.callsOf('save_contact')).toEqual([]);
    await fireEvent.change(days, { target: { value: '12' } });
    await waitFor(() => expect(within(section).queryByText('Between 0 and 30.')).toBeNull());
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const [{ contact }] = backend.callsOf('save_contact') as { contact: Record<string, unknown> }[];
    expect(contact.questions).toEqual([{ form_id: 'drug_use', version: 1, answers: { where_used: 'street', days_injected: 12 } }]);
  });

  it('registers a new client with gender and key groups', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    await answer('Olga', 'Petr', 'Woman', '1990');
    expect(await screen.findByText('New client OLPE290')).toBeTruthy();
    // Sex is asked once, with the code; the gender follows from it and can be changed.
    expect(screen.getByTestId('gender-from-code').textContent).toContain('Gender: Woman (from the code questions)');
    expect(screen.queryByRole('radio', { name: 'Trans woman' })).toBeNull();
    await fireEvent.click(within(screen.getByTestId('gender-from-code')).getByRole('button', { name: 'Change' }));
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

  it('asks the gender only among the other genders when the code says "other", in one order everywhere', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    const sexOrder = within(screen.getByRole('radiogroup', { name: 'Sex' }))
      .getAllByRole('radio')
      .map((r) => r.textContent?.trim());
    expect(sexOrder).toEqual(['Woman', 'Man', 'Other']);
    await answer('Olga', 'Petr', 'Other', '1990');
    expect(await screen.findByText('New client OLPE390')).toBeTruthy();
    const genders = within(screen.getByRole('radiogroup', { name: 'Gender' }))
      .getAllByRole('radio')
      .map((r) => r.textContent?.trim());
    expect(genders).toEqual(['Trans woman', 'Trans man', 'Non-binary', 'Not stated']);
    await fireEvent.click(screen.getByRole('radio', { name: 'Non-binary' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { client: unknown } }[];
    expect(contact.client).toMatchObject({ new: { uic: 'OLPE390', gender: 'non_binary' } });
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
    expect(contact.client).toEqual({ new: { uic: 'OLPE290', gender: 'woman', birth_year: 1990, key_groups: [] } });
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
    // Test data: a scheme of the organisation's own without a year of birth (the recorder
    // enrols with the demo server's), and the code `UicScheme::build` makes of the answers below.
    const noYear: FakeUicScheme = {
      questions: [
        { question: 'mother_first_name', kind: 'letters' },
        { question: 'father_first_name', kind: 'letters' },
        { question: 'sex', kind: 'sex' },
        { question: 'birth_place', kind: 'letters' },
      ],
      codes: [{ answers: { mother_first_name: 'Olga', father_first_name: 'Petr', sex: '2' }, uic: 'OLPE2XX' }],
    };
    const { backend, session } = await fakeSession({ enrolled: true, demo: true, uicScheme: noYear });
    renderWith(ContactForm, session, { onsaved: () => {} });
    expect(screen.queryAllByLabelText(/Year of birth/)).toHaveLength(0);
    await fireEvent.input(screen.getByLabelText("Mother's first name"), { target: { value: 'Olga' } });
    await fireEvent.input(screen.getByLabelText("Father's first name"), { target: { value: 'Petr' } });
    await fireEvent.click(screen.getByRole('radio', { name: 'Woman' }));
    expect(await screen.findByText('New client OLPE2XX')).toBeTruthy();
    await pickYear('Year of birth (optional)', '1985');
    expect(screen.getAllByLabelText(/Year of birth/)).toHaveLength(1);
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { client: unknown } }[];
    expect(contact.client).toEqual({ new: { uic: 'OLPE2XX', gender: 'woman', birth_year: 1985, key_groups: [] } });
    expect(JSON.stringify(backend.callsOf('build_uic'))).not.toMatch(/birth_year/);
  });

  it("asks the organisation's scheme from the status and keeps its year of birth on the new client", async () => {
    // Test data: surname_day_year, which the recorder cannot enrol with yet; its questions as
    // `commands::uic_questions` lists them, and the code outpost-core's own test asserts for
    // these answers (`other_schemes_by_configuration`).
    const surnameDayYear: FakeUicScheme = {
      questions: [
        { question: 'surname', kind: 'letters' },
        { question: 'sex', kind: 'sex' },
        { question: 'birth_day', kind: 'birth_day' },
        { question: 'birth_year', kind: 'birth_year' },
      ],
      codes: [{ answers: { surname: 'Petrenko', sex: '1', birth_day: '7', birth_year: '1985' }, uic: 'PET10785' }],
    };
    const { backend, session } = await fakeSession({ enrolled: true, demo: true, uicScheme: surnameDayYear });
    renderWith(ContactForm, session, { onsaved: () => {} });
    expect(screen.queryByLabelText("Mother's first name")).toBeNull();
    await fireEvent.input(screen.getByLabelText('Surname'), { target: { value: 'Petrenko' } });
    await fireEvent.click(within(screen.getByRole('radiogroup', { name: 'Sex' })).getByRole('radio', { name: 'Man' }));
    await fireEvent.click(within(screen.getByRole('radiogroup', { name: /Day of birth/ })).getByRole('radio', { name: '7' }));
    await pickYear('Year of birth', '1985');
    expect(await screen.findByText('New client PET10785')).toBeTruthy();
    expect(screen.getByText('Year of birth: 1985 (from the code questions)')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(backend.callsOf('save_contact')).toHaveLength(1));
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { client: unknown } }[];
    expect(contact.client).toEqual({ new: { uic: 'PET10785', gender: 'man', birth_year: 1985, key_groups: [] } });
    expect(JSON.stringify(backend.calls.filter((c) => c.command !== 'build_uic'))).not.toMatch(/Petrenko/);
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

  it('keeps the returning client when the status is read again', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    await answer('Maria', 'Ivan', 'Woman', '1987');
    expect(await screen.findByText(/Returning client MAIV287/)).toBeTruthy();
    const lookups = backend.callsOf('find_clients').length;
    await session.refresh();
    await new Promise((r) => setTimeout(r, 300));
    expect(screen.getByText(/Returning client MAIV287/)).toBeTruthy();
    expect(backend.callsOf('find_clients')).toHaveLength(lookups);
  });
});

describe("a returning client's open referrals in the contact form", () => {
  it('are shown with their target and take the outcome in one tap, with undo', async () => {
    const { backend, session } = await fakeSession();
    const maria = backend.clients.find((c) => c.uic === 'MAIV287')!;
    renderWith(ContactForm, session, { onsaved: () => {} });
    await answer('Maria', 'Ivan', 'Woman', '1987');
    expect(await screen.findByRole('heading', { name: 'Open referrals for MAIV287' })).toBeTruthy();
    expect(backend.callsOf('open_referrals')).toEqual([{ client: maria.id }]);
    // Oldest first: hepatitis C 12 days ago, then ART yesterday.
    const groups = screen.getAllByRole('group', { name: /^What happened with the referral/ });
    expect(groups.map((g) => g.getAttribute('aria-label'))).toEqual([
      'What happened with the referral: Hepatitis C treatment',
      'What happened with the referral: ART / HIV care',
    ]);
    expect(screen.getByText(/Issued 12 days ago/)).toBeTruthy();

    await fireEvent.click(within(groups[0]).getByRole('button', { name: 'Attended' }));
    expect(await screen.findByText('Saved: Hepatitis C treatment — Attended.')).toBeTruthy();
    const hcv = backend.referrals.find((r) => r.target === 'hcv_treatment')!;
    expect(backend.callsOf('update_referral')).toEqual([{ id: hcv.id, status: 'attended' }]);
    await waitFor(() => expect(screen.getAllByRole('group', { name: /^What happened with the referral/ })).toHaveLength(1));

    await fireEvent.click(screen.getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('Undone: the referral (Hepatitis C treatment) is open again.')).toBeTruthy();
    expect(backend.callsOf('update_referral')).toEqual([
      { id: hcv.id, status: 'attended' },
      { id: hcv.id, status: 'issued' },
    ]);
    await waitFor(() => expect(screen.getAllByRole('group', { name: /^What happened with the referral/ })).toHaveLength(2));
  });

  it('are not shown for a client without open referrals', async () => {
    const { backend, session } = await fakeSession();
    renderWith(ContactForm, session, { onsaved: () => {} });
    await answer('Olga', 'Semyon', 'Man', '1992'); // OLSE192, no referrals
    expect(await screen.findByText(/Returning client OLSE192/)).toBeTruthy();
    await waitFor(() => expect(backend.callsOf('open_referrals')).toHaveLength(1));
    expect(screen.queryByRole('heading', { name: /Open referrals/ })).toBeNull();
  });
});

describe('the overdose response section', () => {
  async function anonymousContact() {
    const { backend, session } = await fakeSession();
    const onsaved = vi.fn();
    renderWith(ContactForm, session, { onsaved });
    await fireEvent.click(screen.getByRole('button', { name: 'No code (anonymous)' }));
    return { backend, onsaved };
  }
  const group = (name: string) => screen.getByRole('radiogroup', { name });

  it('is closed by default, and nothing is sent while it is closed', async () => {
    const { backend, onsaved } = await anonymousContact();
    expect(screen.getByRole('button', { name: 'Record an overdose response' }).getAttribute('aria-expanded')).toBe('false');
    expect(screen.queryByRole('radiogroup', { name: 'Outcome' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const [{ contact }] = backend.callsOf('save_contact') as { contact: Record<string, unknown> }[];
    expect('overdose' in contact).toBe(false);
  });

  it('needs every answer once opened', async () => {
    const { backend } = await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Record an overdose response' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    const alert = await screen.findByText(/Overdose response: say whether emergency services were called/);
    expect(alert.parentElement?.textContent).toContain('Overdose response: say whether you stayed with the person.');
    expect(alert.parentElement?.textContent).toContain('Overdose response: choose the outcome.');
    await fireEvent.click(within(group('Emergency services called')).getByRole('radio', { name: 'No' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    expect(screen.queryByText(/say whether emergency services were called/)).toBeNull();
    expect(screen.getByText('Overdose response: choose the outcome.')).toBeTruthy();
    expect(backend.callsOf('save_contact')).toEqual([]);
  });

  it('sends the report with the contact', async () => {
    const { backend, onsaved } = await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Record an overdose response' }));
    const more = screen.getByRole('button', { name: 'Naloxone doses given: one more' });
    await fireEvent.click(more);
    await fireEvent.click(more);
    await fireEvent.click(within(group('Emergency services called')).getByRole('radio', { name: 'Yes' }));
    await fireEvent.click(within(group('Stayed with the person')).getByRole('radio', { name: 'Yes' }));
    await fireEvent.click(within(group('Outcome')).getByRole('radio', { name: 'Survived' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const [{ contact }] = backend.callsOf('save_contact') as { contact: Record<string, unknown> }[];
    expect(contact.overdose).toEqual({ naloxone_doses: 2, emergency_called: true, stayed_with_person: true, outcome: 'survived' });
  });

  it('stops at 50 doses', async () => {
    await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Record an overdose response' }));
    const doses = screen.getByLabelText('Naloxone doses given', { selector: 'input' }) as HTMLInputElement;
    await fireEvent.focus(doses);
    await fireEvent.input(doses, { target: { value: '75' } });
    await fireEvent.blur(doses);
    expect(doses.value).toBe('50');
    expect((screen.getByRole('button', { name: 'Naloxone doses given: one more' }) as HTMLButtonElement).disabled).toBe(true);
    // Never silently: the worker is told the typed number was changed.
    expect(screen.getByText('At most 50: 75 was changed to 50.')).toBeTruthy();
  });

  it('tells the worker when a typed item quantity is above what can be given', async () => {
    const { backend, onsaved } = await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Injecting kit' }));
    const syringes = screen.getByLabelText('Syringe 1 ml (insulin, fixed needle)', { selector: 'input' }) as HTMLInputElement;
    await fireEvent.focus(syringes);
    await fireEvent.input(syringes, { target: { value: '25000' } });
    expect(syringes.value).toBe('10000');
    expect(screen.getByText('At most 10,000: 25,000 was changed to 10,000.')).toBeTruthy();
    await fireEvent.blur(syringes);
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { items: { commodity: string; quantity: number }[] } }[];
    expect(contact.items.find((i) => i.commodity === 'syringe_1ml')?.quantity).toBe(10_000);
  });

  it('saves nothing while a typed quantity is not a whole number, and says why', async () => {
    const { backend, onsaved } = await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Injecting kit' }));
    const syringes = screen.getByLabelText('Syringe 1 ml (insulin, fixed needle)', { selector: 'input' }) as HTMLInputElement;
    await fireEvent.focus(syringes);
    await fireEvent.input(syringes, { target: { value: 'abc' } });
    // Tapping Save leaves the field first: the text stays, with its message, and nothing is saved.
    await fireEvent.blur(syringes);
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    expect(syringes.value).toBe('abc');
    expect(screen.getByText('Type a whole number.')).toBeTruthy();
    expect(screen.getByText(/A number above is not right/)).toBeTruthy();
    expect(backend.callsOf('save_contact')).toEqual([]);
    expect(onsaved).not.toHaveBeenCalled();
    await fireEvent.focus(syringes);
    await fireEvent.input(syringes, { target: { value: '7' } });
    await fireEvent.blur(syringes);
    expect(screen.queryByText(/A number above is not right/)).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { items: { commodity: string; quantity: number }[] } }[];
    expect(contact.items.find((i) => i.commodity === 'syringe_1ml')?.quantity).toBe(7);
  });

  it('holds nothing back once the line with the wrong quantity is removed', async () => {
    const { backend, onsaved } = await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Injecting kit' }));
    const syringes = screen.getByLabelText('Syringe 1 ml (insulin, fixed needle)', { selector: 'input' }) as HTMLInputElement;
    await fireEvent.focus(syringes);
    await fireEvent.input(syringes, { target: { value: '' } });
    await fireEvent.blur(syringes);
    await fireEvent.click(screen.getByRole('button', { name: /^Remove Syringe 1 ml/ }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const [{ contact }] = backend.callsOf('save_contact') as { contact: { items: { commodity: string }[] } }[];
    expect(contact.items.some((i) => i.commodity === 'syringe_1ml')).toBe(false);
  });

  it('sends nothing once removed again', async () => {
    const { backend, onsaved } = await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Record an overdose response' }));
    await fireEvent.click(within(group('Outcome')).getByRole('radio', { name: 'Unknown' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Remove the overdose report' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    const [{ contact }] = backend.callsOf('save_contact') as { contact: Record<string, unknown> }[];
    expect('overdose' in contact).toBe(false);
  });

  it('keeps the form when the tablet refuses the report', async () => {
    const { backend, onsaved } = await anonymousContact();
    await fireEvent.click(screen.getByRole('button', { name: 'Record an overdose response' }));
    await fireEvent.click(within(group('Emergency services called')).getByRole('radio', { name: 'No' }));
    await fireEvent.click(within(group('Stayed with the person')).getByRole('radio', { name: 'No' }));
    await fireEvent.click(within(group('Outcome')).getByRole('radio', { name: 'Died' }));
    backend.failures.set('save_contact', { code: 'invalid', message: 'naloxone_doses: must be between 0 and 50' });
    await fireEvent.click(screen.getByRole('button', { name: 'Save contact' }));
    expect(await screen.findByText(/naloxone_doses: must be between 0 and 50/)).toBeTruthy();
    expect(onsaved).not.toHaveBeenCalled();
    expect((within(group('Outcome')).getByRole('radio', { name: 'Died' }) as HTMLElement).getAttribute('aria-checked')).toBe('true');
  });
});
