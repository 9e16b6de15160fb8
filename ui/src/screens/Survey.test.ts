// @vitest-environment happy-dom
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Survey from './Survey.svelte';
import { fakeSession, renderWith } from '../test/render';

/**
 * The survey screen draws the programme's published form (the server's default
 * community-monitoring XLSForm, as the recorder's tablet received it) and asks core's check,
 * through `check_form`, what shows and what is wrong: these tests walk the path the recorder
 * checked for real.
 */
describe('survey', () => {
  it('walks a published form: skip logic, a constraint message at the question, then saves what shows', async () => {
    const { backend, session } = await fakeSession();
    renderWith(Survey, session);
    expect(await screen.findByText('Community-based monitoring')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    await fireEvent.click(await screen.findByRole('radio', { name: 'Very well' }));
    // A one-choice page moves on by itself.
    await fireEvent.click(await screen.findByRole('radio', { name: 'No' }, { timeout: 2000 }));
    // "No" opens the follow-up (its relevant is `selected(${q2}, 'no')`).
    await fireEvent.click(await screen.findByRole('button', { name: 'Naloxone' }, { timeout: 2000 }));
    expect(screen.getByText('You can choose several answers.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: /^Next/ }));
    for (let i = 0; i < 5; i++) await fireEvent.click(await screen.findByRole('button', { name: 'Skip' }));
    const text = await screen.findByRole('textbox');
    await fireEvent.change(text, { target: { value: 'x'.repeat(1001) } });
    // The form's own constraint message, shown at the question; sending is held back.
    expect(await screen.findByText('At most 1000 characters.')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(backend.callsOf('save_survey')).toEqual([]);
    await fireEvent.change(text, { target: { value: 'Longer opening hours' } });
    await waitFor(() => expect(screen.queryByText('At most 1000 characters.')).toBeNull());
    await fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(await screen.findByText('Thank you!')).toBeTruthy();
    expect(backend.callsOf('save_survey')).toEqual([
      {
        formId: 'cbm_default',
        version: 1,
        answers: { q1: 'very_well', q2: 'no', q2_missing: ['naloxone'], q8: 'Longer opening hours' },
      },
    ]);
  });

  it('kiosk mode shows only the survey, and leaving it locks the tablet', async () => {
    const { backend, session } = await fakeSession();
    const first = renderWith(Survey, session);
    await fireEvent.click(await screen.findByRole('button', { name: 'Hand the tablet to the client' }));
    expect(session.kiosk).toBe(true);
    // The app shows kiosk mode as a screen of its own: a new survey screen, straight on the form.
    first.unmount();
    renderWith(Survey, session);
    expect(screen.queryByRole('button', { name: /Home/ })).toBeNull();
    expect(await screen.findByRole('radio', { name: 'Very well' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Staff: exit' }));
    await waitFor(() => expect(backend.callsOf('lock')).toHaveLength(1));
    expect(session.kiosk).toBe(false);
    expect(session.status?.locked).toBe(true);
  });
});
