// @vitest-environment happy-dom
import { fireEvent, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Enrol from './Enrol.svelte';
import { fakeSession, renderWith } from '../test/render';
import { RECORDED_PIN } from '../lib/fakeBackend';
import { refusal } from '../lib/fixtures';

async function pad(digits: string, submit: string) {
  for (const d of digits) await fireEvent.click(screen.getByRole('button', { name: d }));
  await fireEvent.click(screen.getByRole('button', { name: submit }));
}

describe('enrolment', () => {
  it('enrols, names the worker and sets a PIN typed twice', async () => {
    const { backend, session } = await fakeSession({});
    renderWith(Enrol, session);

    await fireEvent.input(screen.getByLabelText('Server address'), { target: { value: 'outpost.example.org/' } });
    const code = screen.getByLabelText('Enrolment code') as HTMLInputElement;
    await fireEvent.input(code, { target: { value: 'abcd efgh jk23' } });
    expect(code.value).toBe('ABCD-EFGH-JK23');
    await fireEvent.input(screen.getByLabelText('Name of this tablet'), { target: { value: 'Van 2' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(backend.callsOf('enroll')).toEqual([
      { serverUrl: 'https://outpost.example.org', code: 'ABCD-EFGH-JK23', deviceName: 'Van 2' },
    ]);

    await fireEvent.input(await screen.findByLabelText('Name or initials'), { target: { value: 'AK' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));

    await pad('123456', 'Next');
    expect(await screen.findByText(/too easy to guess/)).toBeTruthy();
    for (let i = 0; i < 6; i++) await fireEvent.click(screen.getByRole('button', { name: 'Delete last digit' }));
    // The PIN the backend took when recorded.
    expect(RECORDED_PIN).toBe('258036');
    await pad('258036', 'Next');
    await pad('258037', 'Save');
    expect(await screen.findByText('The two PINs were different. Please start again.')).toBeTruthy();
    await pad('258036', 'Next');
    await pad('258036', 'Save');
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.callsOf('set_pin')).toEqual([{ pin: '258036', worker: 'AK' }]);
    expect(session.status?.pin_set).toBe(true);
  });

  async function toPinStep() {
    const { backend, session } = await fakeSession({ enrolled: true, pinSet: false });
    const view = renderWith(Enrol, session);
    await fireEvent.input(await screen.findByLabelText('Name or initials'), { target: { value: 'AK' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await screen.findByRole('heading', { name: 'Choose a PIN' });
    return { backend, session, view };
  }

  it("takes the server's address and the code from a pasted enrolment link, in either field", async () => {
    const { backend, session } = await fakeSession({});
    renderWith(Enrol, session);
    const server = screen.getByLabelText('Server address') as HTMLInputElement;
    const code = screen.getByLabelText('Enrolment code') as HTMLInputElement;
    await fireEvent.input(code, { target: { value: 'https://outpost.example.org/enrol?code=abcd-efgh-jk23' } });
    expect(server.value).toBe('https://outpost.example.org');
    expect(code.value).toBe('ABCD-EFGH-JK23');
    expect(screen.getByText(/taken from the enrolment link/)).toBeTruthy();
    await fireEvent.input(server, { target: { value: 'https://hr.example.org/outpost/enrol?code=ZZZZ-YYYY-XXXX' } });
    expect(server.value).toBe('https://hr.example.org/outpost');
    expect(code.value).toBe('ZZZZ-YYYY-XXXX');
    await fireEvent.input(screen.getByLabelText('Name of this tablet'), { target: { value: 'Van 2' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(backend.callsOf('enroll')).toEqual([
      { serverUrl: 'https://hr.example.org/outpost', code: 'ZZZZ-YYYY-XXXX', deviceName: 'Van 2' },
    ]);
  });

  it('shows six places for a new PIN and refuses a 4- or 5-digit one', async () => {
    const { backend, view } = await toPinStep();
    expect(screen.getByText(/^6 to 12 digits/)).toBeTruthy();
    expect(view.container.querySelectorAll('.dot')).toHaveLength(6);
    for (const short of ['2580', '25804']) {
      await pad(short, 'Next');
      expect(await screen.findByText('The PIN needs at least 6 digits.')).toBeTruthy();
      // Still on the first PIN step, with the digits kept to add to.
      expect(screen.getByRole('heading', { name: 'Choose a PIN' })).toBeTruthy();
      for (let i = 0; i < short.length; i++) await fireEvent.click(screen.getByRole('button', { name: 'Delete last digit' }));
    }
    expect(backend.callsOf('set_pin')).toEqual([]);
  });

  it('starts the PIN again when the tablet refuses it', async () => {
    const { backend, session } = await toPinStep();
    // A refusal the form did not foresee (the backend's own words, as recorded).
    backend.failures.set('set_pin', refusal('set_pin', 'invalid'));
    await pad('258046', 'Next');
    await pad('258046', 'Save');
    expect(await screen.findByText(/a new PIN is 6 to 12 digits/)).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Choose a PIN' })).toBeTruthy();
    expect(session.status?.pin_set).toBe(false);
    await pad('258036', 'Next');
    await pad('258036', 'Save');
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.callsOf('set_pin')).toEqual([
      { pin: '258046', worker: 'AK' },
      { pin: '258036', worker: 'AK' },
    ]);
    expect(session.status?.pin_set).toBe(true);
  });

  it('refuses a code of the wrong length before calling the backend', async () => {
    const { backend, session } = await fakeSession({});
    renderWith(Enrol, session);
    await fireEvent.input(screen.getByLabelText('Server address'), { target: { value: 'https://outpost.example.org' } });
    await fireEvent.input(screen.getByLabelText('Enrolment code'), { target: { value: 'ABCD-EFGH' } });
    await fireEvent.input(screen.getByLabelText('Name of this tablet'), { target: { value: 'Van 2' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(await screen.findByText('The enrolment code has 12 letters and digits.')).toBeTruthy();
    expect(backend.callsOf('enroll')).toEqual([]);
  });
});
