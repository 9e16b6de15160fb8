// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import UicBuilder from './UicBuilder.svelte';
import { fakeSession, renderWith } from '../test/render';
import type { BuiltInScheme, FakeUicScheme } from '../lib/fakeBackend';

type Answer = { type: 'text'; value: string } | { type: 'tap'; value: string };

interface Case {
  scheme: BuiltInScheme;
  /** Question name, its label, and how the worker answers it. */
  asks: [string, string, Answer][];
  uic: string;
  birthYear: number;
}

const CASES: Case[] = [
  {
    scheme: 'central_asia',
    asks: [
      ['mother_first_name', "Mother's first name", { type: 'text', value: 'Maria' }],
      ['father_first_name', "Father's first name", { type: 'text', value: 'Ivan' }],
      ['sex', 'Sex', { type: 'tap', value: 'Woman' }],
      ['birth_year', 'Year of birth', { type: 'text', value: '1987' }],
    ],
    uic: 'MAIV287',
    birthYear: 1987,
  },
  {
    scheme: 'surname_day_year',
    asks: [
      ['surname', 'Surname', { type: 'text', value: 'Petrova' }],
      ['sex', 'Sex', { type: 'tap', value: 'Woman' }],
      ['birth_day', 'Day of birth (day of the month)', { type: 'tap', value: '7' }],
      ['birth_year', 'Year of birth', { type: 'text', value: '1990' }],
    ],
    uic: 'PET20790',
    birthYear: 1990,
  },
  {
    scheme: 'gender_letters_year',
    asks: [
      ['sex', 'Sex', { type: 'tap', value: 'Man' }],
      ['mother_first_name', "Mother's first name", { type: 'text', value: 'Olga' }],
      ['birth_place', 'Place of birth (town or village)', { type: 'text', value: 'Bishkek' }],
      ['birth_year', 'Year of birth', { type: 'text', value: '1985' }],
    ],
    uic: '1OLBI1985',
    birthYear: 1985,
  },
];

const SENT: Record<string, string> = { Woman: '2', Man: '1' };

async function answer(label: string, a: Answer) {
  if (a.type === 'text') await fireEvent.input(screen.getByLabelText(label), { target: { value: a.value } });
  else await fireEvent.click(within(screen.getByRole('radiogroup', { name: label })).getByRole('radio', { name: a.value }));
}

function askedInOrder(container: HTMLElement): string[] {
  return [...container.querySelectorAll('[data-question]')].map((e) => e.getAttribute('data-question') ?? '');
}

describe('the client code builder', () => {
  it.each(CASES)('asks the questions of the $scheme scheme, in order, and sends the answers to build_uic', async (c) => {
    const { backend, session } = await fakeSession({ enrolled: true, uicScheme: c.scheme });
    const onchange = vi.fn();
    const { container } = renderWith(UicBuilder, session, { onchange });

    expect(askedInOrder(container)).toEqual(c.asks.map(([q]) => q));
    for (const [, label, a] of c.asks) await answer(label, a);

    expect(await screen.findByText(c.uic)).toBeTruthy();
    const expected = Object.fromEntries(
      c.asks.map(([q, , a]) => [q, a.type === 'tap' && a.value in SENT ? SENT[a.value] : a.value]),
    );
    expect(backend.callsOf('build_uic').at(-1)).toEqual({ answers: expected });
    expect(onchange).toHaveBeenLastCalledWith(c.uic, c.birthYear);
  });

  it('labels a question it has no translation for with its name', async () => {
    const custom: FakeUicScheme = {
      name: 'custom',
      components: [
        { kind: 'letters', question: 'favourite_colour', count: 2 },
        { kind: 'sex_digit', question: 'gender_digit' },
        { kind: 'birth_year', question: 'year_born', digits: 2 },
      ],
    };
    const { backend, session } = await fakeSession({ enrolled: true, uicScheme: custom });
    const onchange = vi.fn();
    const { container } = renderWith(UicBuilder, session, { onchange });
    expect(askedInOrder(container)).toEqual(['favourite_colour', 'gender_digit', 'year_born']);

    await answer('Favourite colour', { type: 'text', value: 'Blue' });
    await answer('Gender digit', { type: 'tap', value: 'Other' });
    await answer('Year born', { type: 'text', value: '2001' });
    expect(await screen.findByText('BL301')).toBeTruthy();
    expect(backend.callsOf('build_uic').at(-1)).toEqual({ answers: { favourite_colour: 'Blue', gender_digit: '3', year_born: '2001' } });
    expect(onchange).toHaveBeenLastCalledWith('BL301', 2001);
  });

  it('asks the default scheme while the status lists no questions', async () => {
    const { session } = await fakeSession({ enrolled: true, uicScheme: 'surname_day_year' });
    session.status = { ...session.status!, uic_questions: [] };
    const { container } = renderWith(UicBuilder, session, { onchange: () => {} });
    expect(askedInOrder(container)).toEqual(['mother_first_name', 'father_first_name', 'sex', 'birth_year']);
  });

  it('keeps the code when the status is read again', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, uicScheme: 'surname_day_year' });
    const onchange = vi.fn();
    renderWith(UicBuilder, session, { onchange });
    await answer('Surname', { type: 'text', value: 'Petrova' });
    expect(await screen.findByText('PETXXXXX')).toBeTruthy();
    const builds = backend.callsOf('build_uic').length;
    const reports = onchange.mock.calls.length;
    await session.refresh();
    await session.refresh();
    await new Promise((r) => setTimeout(r, 300));
    expect(backend.callsOf('build_uic')).toHaveLength(builds);
    expect(onchange.mock.calls).toHaveLength(reports);
  });

  it('clears a day of birth tapped twice, and waits for four digits of the year', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, uicScheme: 'surname_day_year' });
    renderWith(UicBuilder, session, { onchange: () => {} });
    await answer('Day of birth (day of the month)', { type: 'tap', value: '31' });
    expect(await screen.findByText('XXXX31XX')).toBeTruthy();
    await answer('Day of birth (day of the month)', { type: 'tap', value: '31' });
    await fireEvent.input(screen.getByLabelText('Year of birth'), { target: { value: '19' } });
    expect(screen.getByText('Four digits, for example 1987.')).toBeTruthy();
    await new Promise((r) => setTimeout(r, 300));
    expect(JSON.stringify(backend.callsOf('build_uic'))).not.toMatch(/"19"/);
  });

  it('shows why the tablet refused an answer', async () => {
    const { backend, session } = await fakeSession({ enrolled: true });
    const onchange = vi.fn();
    renderWith(UicBuilder, session, { onchange });
    backend.failures.set('build_uic', { code: 'invalid_answer', message: 'the year of birth must be four digits between 1900 and 2100, got "1850"' });
    await fireEvent.input(screen.getByLabelText('Year of birth'), { target: { value: '1850' } });
    expect(await screen.findByText('One of the answers cannot be used for the code.')).toBeTruthy();
    await waitFor(() => expect(onchange).toHaveBeenLastCalledWith(null, null));
  });
});
