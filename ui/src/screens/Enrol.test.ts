// @vitest-environment happy-dom
import { fireEvent, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Enrol from './Enrol.svelte';
import { fakeSession, renderWith } from '../test/render';

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

    await pad('1234', 'Next');
    expect(await screen.findByText(/too easy to guess/)).toBeTruthy();
    for (let i = 0; i < 4; i++) await fireEvent.click(screen.getByRole('button', { name: 'Delete last digit' }));
    await pad('2580', 'Next');
    await pad('2581', 'Save');
    expect(await screen.findByText('The two PINs were different. Please start again.')).toBeTruthy();
    await pad('2580', 'Next');
    await pad('2580', 'Save');
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.callsOf('set_pin')).toEqual([{ pin: '2580', worker: 'AK' }]);
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
