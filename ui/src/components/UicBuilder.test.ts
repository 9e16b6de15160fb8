// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import UicBuilder from './UicBuilder.svelte';
import { fakeSession, renderWith } from '../test/render';
import { pickYear } from '../test/pads';
import type { FakeUicScheme } from '../lib/fakeBackend';

type Answer = { type: 'text'; value: string } | { type: 'tap'; value: string } | { type: 'year'; value: string };

/*
 * Test data for client code schemes the recorder cannot enrol with yet (the demo server's is
 * central_asia, whose codes come from the recorded build_uic calls): the questions `status`
 * lists for each (`commands::uic_questions`, asserted in src-tauri/src/commands/session.rs) and
 * the codes `UicScheme::build` makes of the answers below (the full answers are those asserted
 * by outpost-core's `other_schemes_by_configuration`; a missing answer is X).
 */
const SURNAME_DAY_YEAR: FakeUicScheme = {
  questions: [
    { question: 'surname', kind: 'letters' },
    { question: 'sex', kind: 'sex' },
    { question: 'birth_day', kind: 'birth_day' },
    { question: 'birth_year', kind: 'birth_year' },
  ],
  codes: [
    { answers: { surname: 'Petrenko', sex: '1', birth_day: '7', birth_year: '1985' }, uic: 'PET10785' },
    { answers: { surname: 'Petrenko' }, uic: 'PETXXXXX' },
    { answers: { birth_day: '31' }, uic: 'XXXX31XX' },
  ],
};

const GENDER_LETTERS_YEAR: FakeUicScheme = {
  questions: [
    { question: 'sex', kind: 'sex' },
    { question: 'mother_first_name', kind: 'letters' },
    { question: 'birth_place', kind: 'letters' },
    { question: 'birth_year', kind: 'birth_year' },
  ],
  codes: [{ answers: { sex: '1', mother_first_name: 'Olena', birth_place: 'Kyiv', birth_year: '1985' }, uic: '1OLKY1985' }],
};

interface Case {
  name: string;
  /** The organisation's scheme; the demo server's when absent. */
  scheme?: FakeUicScheme;
  /** Question name, its label, and how the worker answers it. */
  asks: [string, string, Answer][];
  uic: string;
  birthYear: number;
  /** The sex answer handed on with the code (for the new client's gender). */
  sex: '1' | '2' | '3';
}

const CASES: Case[] = [
  {
    name: 'central_asia',
    asks: [
      ['mother_first_name', "Mother's first name", { type: 'text', value: 'Maria' }],
      ['father_first_name', "Father's first name", { type: 'text', value: 'Ivan' }],
      ['sex', 'Sex', { type: 'tap', value: 'Woman' }],
      ['birth_year', 'Year of birth', { type: 'year', value: '1987' }],
    ],
    uic: 'MAIV287',
    birthYear: 1987,
    sex: '2',
  },
  {
    name: 'surname_day_year',
    scheme: SURNAME_DAY_YEAR,
    asks: [
      ['surname', 'Surname', { type: 'text', value: 'Petrenko' }],
      ['sex', 'Sex', { type: 'tap', value: 'Man' }],
      ['birth_day', 'Day of birth (day of the month)', { type: 'tap', value: '7' }],
      ['birth_year', 'Year of birth', { type: 'year', value: '1985' }],
    ],
    uic: 'PET10785',
    birthYear: 1985,
    sex: '1',
  },
  {
    name: 'gender_letters_year',
    scheme: GENDER_LETTERS_YEAR,
    asks: [
      ['sex', 'Sex', { type: 'tap', value: 'Man' }],
      ['mother_first_name', "Mother's first name", { type: 'text', value: 'Olena' }],
      ['birth_place', 'Place of birth (town or village)', { type: 'text', value: 'Kyiv' }],
      ['birth_year', 'Year of birth', { type: 'year', value: '1985' }],
    ],
    uic: '1OLKY1985',
    birthYear: 1985,
    sex: '1',
  },
];

const SENT: Record<string, string> = { Woman: '2', Man: '1' };

async function answer(label: string, a: Answer) {
  if (a.type === 'year') await pickYear(label, a.value);
  else if (a.type === 'text') await fireEvent.input(screen.getByLabelText(label), { target: { value: a.value } });
  else await fireEvent.click(within(screen.getByRole('radiogroup', { name: label })).getByRole('radio', { name: a.value }));
}

function askedInOrder(container: HTMLElement): string[] {
  return [...container.querySelectorAll('[data-question]')].map((e) => e.getAttribute('data-question') ?? '');
}

describe('the client code builder', () => {
  it.each(CASES)('asks the questions of the $name scheme, in order, and sends the answers to build_uic', async (c) => {
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
    expect(onchange).toHaveBeenLastCalledWith(c.uic, c.birthYear, c.sex);
  });

  it('labels a question it has no translation for with its name', async () => {
    // Test data: a scheme of the organisation's own, and the code of the answers below.
    const custom: FakeUicScheme = {
      questions: [
        { question: 'favourite_colour', kind: 'letters' },
        { question: 'gender_digit', kind: 'sex' },
        { question: 'year_born', kind: 'birth_year' },
      ],
      codes: [{ answers: { favourite_colour: 'Blue', gender_digit: '3', year_born: '2001' }, uic: 'BL301' }],
    };
    const { backend, session } = await fakeSession({ enrolled: true, uicScheme: custom });
    const onchange = vi.fn();
    const { container } = renderWith(UicBuilder, session, { onchange });
    expect(askedInOrder(container)).toEqual(['favourite_colour', 'gender_digit', 'year_born']);

    await answer('Favourite colour', { type: 'text', value: 'Blue' });
    await answer('Gender digit', { type: 'tap', value: 'Other' });
    await answer('Year born', { type: 'year', value: '2001' });
    expect(await screen.findByText('BL301')).toBeTruthy();
    expect(backend.callsOf('build_uic').at(-1)).toEqual({ answers: { favourite_colour: 'Blue', gender_digit: '3', year_born: '2001' } });
    expect(onchange).toHaveBeenLastCalledWith('BL301', 2001, '3');
  });

  it('asks the default scheme while the status lists no questions', async () => {
    const { session } = await fakeSession({ enrolled: true, uicScheme: SURNAME_DAY_YEAR });
    session.status = { ...session.status!, uic_questions: [] };
    const { container } = renderWith(UicBuilder, session, { onchange: () => {} });
    expect(askedInOrder(container)).toEqual(['mother_first_name', 'father_first_name', 'sex', 'birth_year']);
  });

  it('keeps the code when the status is read again', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, uicScheme: SURNAME_DAY_YEAR });
    const onchange = vi.fn();
    renderWith(UicBuilder, session, { onchange });
    await answer('Surname', { type: 'text', value: 'Petrenko' });
    expect(await screen.findByText('PETXXXXX')).toBeTruthy();
    const builds = backend.callsOf('build_uic').length;
    const reports = onchange.mock.calls.length;
    await session.refresh();
    await session.refresh();
    await new Promise((r) => setTimeout(r, 300));
    expect(backend.callsOf('build_uic')).toHaveLength(builds);
    expect(onchange.mock.calls).toHaveLength(reports);
  });

  it('clears a day of birth tapped twice, and sends a year only once both its taps are made', async () => {
    const { backend, session } = await fakeSession({ enrolled: true, uicScheme: SURNAME_DAY_YEAR });
    renderWith(UicBuilder, session, { onchange: () => {} });
    await answer('Day of birth (day of the month)', { type: 'tap', value: '31' });
    expect(await screen.findByText('XXXX31XX')).toBeTruthy();
    await answer('Day of birth (day of the month)', { type: 'tap', value: '31' });
    // The year's last digit waits for its decade.
    const digits = within(screen.getByRole('radiogroup', { name: 'Last digit of the year' })).getAllByRole('radio');
    expect(digits.every((d) => (d as HTMLButtonElement).disabled)).toBe(true);
    await fireEvent.click(within(screen.getByRole('radiogroup', { name: 'Decade of birth' })).getByRole('radio', { name: '1980–89' }));
    expect(screen.getByText('198·')).toBeTruthy();
    await new Promise((r) => setTimeout(r, 300));
    expect(JSON.stringify(backend.callsOf('build_uic'))).not.toMatch(/birth_year/);
    // The decade tapped again clears the year.
    await pickYear('Year of birth', '1985');
    expect(screen.getByRole('group', { name: 'Year of birth' }).querySelector('output')?.textContent).toBe('1985');
    await fireEvent.click(within(screen.getByRole('radiogroup', { name: 'Decade of birth' })).getByRole('radio', { name: '1980–89' }));
    expect(screen.getByText('····')).toBeTruthy();
  });

  it('shows why the tablet refused an answer', async () => {
    const { session } = await fakeSession({ enrolled: true });
    const onchange = vi.fn();
    renderWith(UicBuilder, session, { onchange });
    // Answers the backend refused when recorded: a name of 101 letters.
    await answer("Mother's first name", { type: 'text', value: 'x'.repeat(101) });
    await answer("Father's first name", { type: 'text', value: 'Ivan' });
    await answer('Sex', { type: 'tap', value: 'Woman' });
    await answer('Year of birth', { type: 'year', value: '1987' });
    expect(await screen.findByText('One of the answers cannot be used for the code.')).toBeTruthy();
    expect(screen.getByText(/an answer is too long/)).toBeTruthy();
    await waitFor(() => expect(onchange).toHaveBeenLastCalledWith(null, null, null));
  });
});
