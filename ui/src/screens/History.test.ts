// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import History from './History.svelte';
import { fakeSession, renderWith } from '../test/render';
import { setLanguage } from '../i18n/index.svelte';
import { CONTACT_EDIT_WINDOW_MS } from '../lib/backend';

/** A contact saved now; `later(ms)` moves the tablet's clock on. */
async function withContactToday() {
  let now = Date.now();
  const { backend, session } = await fakeSession({ enrolled: true, now: () => now });
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
  return { backend, session, client_id, later: (ms: number) => (now += ms) };
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

  it('reverses nothing while the typed quantity is below 1, and says so', async () => {
    const { backend, session } = await withContactToday();
    renderWith(History, session);
    await fireEvent.click(await screen.findByRole('button', { name: /OLPE290/ }));
    const [correct] = screen.getAllByRole('button', { name: 'Correct' });
    await fireEvent.click(correct);
    let qty = screen.getByRole('textbox', { name: 'Quantity to reverse' }) as HTMLInputElement;
    await fireEvent.focus(qty);
    await fireEvent.input(qty, { target: { value: '0' } });
    const reverse = screen.getByRole('button', { name: /^Reverse / }) as HTMLButtonElement;
    expect(reverse.disabled).toBe(true);
    // Tapping Reverse leaves the field first: 0 stays with its message, nothing is raised to 1.
    await fireEvent.blur(qty);
    await fireEvent.click(reverse);
    expect(qty.value).toBe('0');
    expect(screen.getByText('At least 1.')).toBeTruthy();
    expect(reverse.disabled).toBe(true);
    expect(backend.callsOf('reverse_line')).toEqual([]);
    // Cancelled and opened again: the field starts afresh and nothing holds Reverse back.
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await fireEvent.click(screen.getAllByRole('button', { name: 'Correct' })[0]);
    expect((screen.getByRole('button', { name: 'Reverse 20' }) as HTMLButtonElement).disabled).toBe(false);
    qty = screen.getByRole('textbox', { name: 'Quantity to reverse' }) as HTMLInputElement;
    await fireEvent.focus(qty);
    await fireEvent.input(qty, { target: { value: '3' } });
    await fireEvent.blur(qty);
    await fireEvent.click(screen.getByRole('button', { name: 'Reverse 3' }));
    await waitFor(() => expect(backend.callsOf('reverse_line')).toHaveLength(1));
    expect(backend.callsOf('reverse_line')).toEqual([{ contactId: backend.contacts[0].id, commodity: 'syringe_1ml', quantity: 3 }]);
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
    // Locked: recorded more than the edit window ago (it counts from when it was recorded).
    const { backend, session, later } = await withContactToday();
    later(CONTACT_EDIT_WINDOW_MS + 3_600_000);
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

describe('the overdose report of a past contact', () => {
  const REPORT = { naloxone_doses: 2, emergency_called: true, stayed_with_person: false, outcome: 'survived' } as const;
  const HOUR = 3_600_000;

  /** A contact saved now (with the report unless told), the screen opened on it `hoursLater`. */
  async function withOverdose(options: { report?: boolean; hoursLater?: number } = {}) {
    let now = Date.now();
    const { backend, session } = await fakeSession({ enrolled: true, now: () => now });
    await backend.saveContact({
      contact: {
        client: { new: { uic: 'OLPE290', gender: 'woman', key_groups: [] } },
        setting: 'street_outreach',
        services: [],
        collecting_for: 0,
        items: [{ commodity: 'naloxone_nasal', quantity: 1 }],
        referrals: [],
        tests: [],
        ...(options.report === false ? {} : { overdose: { ...REPORT } }),
      },
    });
    backend.calls = [];
    now += (options.hoursLater ?? 0) * HOUR;
    renderWith(History, session);
    await fireEvent.click(await screen.findByRole('button', { name: /OLPE290/ }));
    const contactId = backend.contacts[0].id;
    const report = () => screen.getByRole('region', { name: 'Overdose response' });
    return { backend, session, contactId, report, later: (hours: number) => (now += hours * HOUR) };
  }
  const group = (name: string) => screen.getByRole('radiogroup', { name });
  const fact = (region: HTMLElement, term: string) =>
    within(region).getByText(term, { selector: 'dt' }).nextElementSibling?.textContent?.trim();

  it('is shown with the contact, and marked in the list', async () => {
    const { report } = await withOverdose();
    expect(screen.getByRole('button', { name: /OLPE290/ }).textContent).toContain('Overdose response');
    expect(fact(report(), 'Naloxone doses given')).toBe('2');
    expect(fact(report(), 'Emergency services called')).toBe('Yes');
    expect(fact(report(), 'Stayed with the person')).toBe('No');
    expect(fact(report(), 'Outcome')).toBe('Survived');
  });

  it('is shown in Russian and Ukrainian', async () => {
    const region = (await withOverdose()).report();
    try {
      setLanguage('ru');
      await waitFor(() => expect(fact(region, 'Исход')).toBe('Выжил'));
      expect(fact(region, 'Вызвана скорая помощь')).toBe('Да');
      expect(fact(region, 'Введено доз налоксона')).toBe('2');
      setLanguage('uk');
      await waitFor(() => expect(fact(region, 'Наслідок')).toBe('Вижив'));
      expect(fact(region, 'Залишалися з людиною')).toBe('Ні');
    } finally {
      setLanguage('en');
    }
  });

  it('is corrected with the same questions as the contact form, sending the whole report', async () => {
    const { backend, contactId, report } = await withOverdose();
    await fireEvent.click(screen.getByRole('button', { name: 'Change the overdose report' }));
    const save = screen.getByRole('button', { name: 'Save the overdose report' }) as HTMLButtonElement;
    expect(save.disabled).toBe(true); // nothing changed yet
    expect(within(group('Outcome')).getByRole('radio', { name: 'Survived' }).getAttribute('aria-checked')).toBe('true');
    await fireEvent.click(screen.getByRole('button', { name: 'Naloxone doses given: one more' }));
    await fireEvent.click(within(group('Stayed with the person')).getByRole('radio', { name: 'Yes' }));
    expect(save.disabled).toBe(false);
    await fireEvent.click(save);
    await waitFor(() => expect(backend.callsOf('update_overdose')).toHaveLength(1));
    expect(backend.callsOf('update_overdose')).toEqual([
      { contactId, overdose: { naloxone_doses: 3, emergency_called: true, stayed_with_person: true, outcome: 'survived' } },
    ]);
    await waitFor(() => expect(fact(report(), 'Naloxone doses given')).toBe('3'));
    expect(fact(report(), 'Stayed with the person')).toBe('Yes');
    expect(screen.queryByRole('button', { name: 'Save the overdose report' })).toBeNull();
  });

  it('can be added to a contact that has none, once every question is answered', async () => {
    const { backend, contactId, report } = await withOverdose({ report: false });
    expect(screen.getByRole('button', { name: /OLPE290/ }).textContent).not.toContain('Overdose response');
    expect(within(report()).getByText('No overdose response recorded in this contact.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Record an overdose response' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save the overdose report' }));
    expect(await screen.findByText('Overdose response: choose the outcome.')).toBeTruthy();
    expect(backend.callsOf('update_overdose')).toEqual([]);
    await fireEvent.click(within(group('Emergency services called')).getByRole('radio', { name: 'No' }));
    await fireEvent.click(within(group('Stayed with the person')).getByRole('radio', { name: 'Yes' }));
    await fireEvent.click(within(group('Outcome')).getByRole('radio', { name: 'Unknown' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save the overdose report' }));
    await waitFor(() => expect(backend.callsOf('update_overdose')).toHaveLength(1));
    expect(backend.callsOf('update_overdose')).toEqual([
      { contactId, overdose: { naloxone_doses: 0, emergency_called: false, stayed_with_person: true, outcome: 'unknown' } },
    ]);
    await waitFor(() => expect(fact(report(), 'Outcome')).toBe('Unknown'));
    expect(screen.getByRole('button', { name: /OLPE290/ }).textContent).toContain('Overdose response');
  });

  it('is removed only after a confirmation', async () => {
    const { backend, contactId, report } = await withOverdose();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove the overdose report' }));
    expect(screen.getByText(/only if it was recorded by mistake/)).toBeTruthy();
    expect(backend.callsOf('update_overdose')).toEqual([]);
    await fireEvent.click(within(report()).getByRole('button', { name: 'Cancel' }));
    expect(fact(report(), 'Outcome')).toBe('Survived');
    await fireEvent.click(screen.getByRole('button', { name: 'Remove the overdose report' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Yes, remove the report' }));
    await waitFor(() => expect(backend.callsOf('update_overdose')).toEqual([{ contactId, overdose: null }]));
    expect(await within(report()).findByText('No overdose response recorded in this contact.')).toBeTruthy();
    expect(backend.contacts[0].overdose).toBeNull();
  });

  it('is shown without any edit control once the contact is locked', async () => {
    const { report } = await withOverdose({ hoursLater: 73 });
    expect(screen.getByText(/can no longer be changed on the tablet/)).toBeTruthy();
    expect(fact(report(), 'Outcome')).toBe('Survived');
    expect(within(report()).queryAllByRole('button')).toEqual([]);
    for (const name of ['Change the overdose report', 'Remove the overdose report', 'Record an overdose response']) {
      expect(screen.queryByRole('button', { name })).toBeNull();
    }
  });

  it('offers no way to add one to a locked contact', async () => {
    const { report } = await withOverdose({ report: false, hoursLater: 73 });
    expect(within(report()).getByText('No overdose response recorded in this contact.')).toBeTruthy();
    expect(within(report()).queryAllByRole('button')).toEqual([]);
  });

  it('shows why the tablet refused a report in the overdose section, and keeps the answers', async () => {
    const { backend, report } = await withOverdose();
    await fireEvent.click(screen.getByRole('button', { name: 'Change the overdose report' }));
    await fireEvent.click(within(group('Outcome')).getByRole('radio', { name: 'Died' }));
    backend.failures.set('update_overdose', { code: 'invalid', message: 'outcome: unknown value "died"' });
    await fireEvent.click(screen.getByRole('button', { name: 'Save the overdose report' }));
    const alert = await within(report()).findByText(/This could not be saved\./);
    expect(alert.textContent).toContain('outcome: unknown value "died"');
    expect(within(group('Outcome')).getByRole('radio', { name: 'Died' }).getAttribute('aria-checked')).toBe('true');
    expect(within(report()).getByRole('button', { name: 'Save the overdose report' })).toBeTruthy();
    expect(backend.contacts[0].overdose).toEqual(REPORT);
    // Saved once the tablet accepts it; the message goes.
    backend.failures.delete('update_overdose');
    await fireEvent.click(within(group('Outcome')).getByRole('radio', { name: 'Unknown' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Save the overdose report' }));
    await waitFor(() => expect(backend.contacts[0].overdose).toEqual({ ...REPORT, outcome: 'unknown' }));
    expect(within(report()).queryByText(/This could not be saved\./)).toBeNull();
  });

  it('shows a refused removal in the overdose section', async () => {
    const { backend, report } = await withOverdose();
    await fireEvent.click(screen.getByRole('button', { name: 'Remove the overdose report' }));
    backend.failures.set('update_overdose', { code: 'not_found', message: 'no such contact' });
    await fireEvent.click(screen.getByRole('button', { name: 'Yes, remove the report' }));
    const alert = await within(report()).findByText(/This record is no longer on this tablet/);
    expect(alert.textContent).toContain('no such contact');
    expect(within(report()).getByRole('button', { name: 'Yes, remove the report' })).toBeTruthy();
  });

  it('saves no report while the typed doses are not a whole number', async () => {
    const { backend, report } = await withOverdose();
    await fireEvent.click(screen.getByRole('button', { name: 'Change the overdose report' }));
    await fireEvent.click(within(group('Outcome')).getByRole('radio', { name: 'Unknown' }));
    const doses = within(report()).getByRole('textbox', { name: 'Naloxone doses given' }) as HTMLInputElement;
    await fireEvent.focus(doses);
    await fireEvent.input(doses, { target: { value: 'x' } });
    await fireEvent.blur(doses);
    await fireEvent.click(screen.getByRole('button', { name: 'Save the overdose report' }));
    expect(within(report()).getByText(/A number above is not right/)).toBeTruthy();
    expect(doses.value).toBe('x');
    expect(backend.callsOf('update_overdose')).toEqual([]);
  });

  it('shows that the contact locked meanwhile, then shows it read-only with the answers not saved', async () => {
    const { backend, later, report } = await withOverdose({ hoursLater: 71 });
    await fireEvent.click(screen.getByRole('button', { name: 'Change the overdose report' }));
    await fireEvent.click(within(group('Emergency services called')).getByRole('radio', { name: 'No' }));
    later(2);
    await fireEvent.click(screen.getByRole('button', { name: 'Save the overdose report' }));
    const alert = await within(report()).findByText(/This contact can no longer be changed\./);
    expect(alert.textContent).toContain('this contact is locked: it was recorded more than 72 hours ago');
    await waitFor(() => expect(screen.getByText(/can no longer be changed on the tablet/)).toBeTruthy());
    expect(within(report()).queryAllByRole('button')).toEqual([]);
    expect(within(report()).getByText(/This contact can no longer be changed\./)).toBeTruthy();
    // The stored report comes first; the worker's answers follow, marked as not saved.
    const [stored] = within(report()).getAllByText('Emergency services called', { selector: 'dt' });
    expect(stored.nextElementSibling?.textContent?.trim()).toBe('Yes');
    const unsaved = within(report()).getByRole('group', { name: 'Your answers, not saved:' });
    expect(fact(unsaved, 'Emergency services called')).toBe('No');
    expect(fact(unsaved, 'Outcome')).toBe('Survived');
    expect(backend.contacts[0].overdose).toEqual(REPORT);
  });
});
