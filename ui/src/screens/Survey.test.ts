// @vitest-environment happy-dom
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import Survey from './Survey.svelte';
import { fakeSession, renderWith } from '../test/render';
import { language } from '../i18n/index.svelte';

describe('survey', () => {
  it('sends nulls for a survey skipped from start to end', async () => {
    const { backend, session } = await fakeSession();
    renderWith(Survey, session);
    await fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    for (let i = 0; i < 8; i++) await fireEvent.click(screen.getByRole('button', { name: 'Skip' }));
    expect(await screen.findByText('Thank you!')).toBeTruthy();
    const [{ answers }] = backend.callsOf('save_survey') as { answers: Record<string, unknown> }[];
    expect(Object.values(answers).every((a) => a === null)).toBe(true);
    expect(Object.keys(answers)).toHaveLength(9);
  });

  it('records answers, the follow-up and free text, in the client\'s language', async () => {
    const { backend, session } = await fakeSession();
    renderWith(Survey, session);
    await fireEvent.click(screen.getByRole('radio', { name: 'Українська' }));
    expect(language()).toBe('uk');
    await fireEvent.click(screen.getByRole('button', { name: 'Почати' }));
    await fireEvent.click(screen.getByRole('radio', { name: 'Добре' }));
    await fireEvent.click(await screen.findByRole('radio', { name: 'Частково' }, { timeout: 2000 }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Налоксон' }));
    await fireEvent.click(screen.getByRole('button', { name: /^Далі/ }));
    for (let i = 0; i < 5; i++) await fireEvent.click(screen.getByRole('button', { name: 'Пропустити' }));
    await fireEvent.input(screen.getByRole('textbox'), { target: { value: '  Довші години роботи ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Надіслати' }));
    await waitFor(() => expect(backend.callsOf('save_survey')).toHaveLength(1));
    const [{ answers }] = backend.callsOf('save_survey') as { answers: Record<string, unknown> }[];
    expect(answers).toMatchObject({ q1: 'well', q2: 'partly', q2_missing: ['naloxone'], q3: null, q8: 'Довші години роботи' });
    // The worker's language was not changed on the backend.
    expect(backend.callsOf('set_language')).toEqual([]);
  });
});
