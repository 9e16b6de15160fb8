import { describe, expect, it } from 'vitest';
import { contactDraft, contactProblems, emptyContactForm, emptyOverdoseForm, overdoseProblems, type ContactForm } from './contact';

function form(patch: Partial<ContactForm>): ContactForm {
  return { ...emptyContactForm('street_outreach'), ...patch };
}

describe('outreach contact form', () => {
  it('needs a client choice and a setting', () => {
    expect(contactProblems(emptyContactForm())).toEqual(['no_client', 'no_setting']);
    expect(contactProblems(form({ client: { kind: 'anonymous' } }))).toEqual([]);
  });

  it('checks a new client\'s birth year', () => {
    const client = { kind: 'new' as const, uic: 'MAIV287', gender: 'woman' as const, birthYear: 2031, keyGroups: [] };
    expect(contactProblems(form({ client }), 2025)).toEqual(['birth_year']);
    expect(contactProblems(form({ client: { ...client, birthYear: 1987 } }), 2025)).toEqual([]);
    expect(contactProblems(form({ client: { ...client, birthYear: null } }), 2025)).toEqual([]);
  });

  it('builds a new client payload with only the code and coarse attributes', () => {
    const draft = contactDraft(
      form({
        client: { kind: 'new', uic: 'MAIV287', gender: 'woman', birthYear: 1987, keyGroups: ['injects_drugs'] },
        items: [{ commodity: 'syringe_1ml', quantity: 10 }],
      }),
    );
    expect(draft.client).toEqual({ new: { uic: 'MAIV287', gender: 'woman', birth_year: 1987, key_groups: ['injects_drugs'] } });
    expect(JSON.stringify(draft)).not.toMatch(/mother|father/);
  });

  it('adds the services implied by what was recorded, in a stable order', () => {
    const draft = contactDraft(
      form({
        client: { kind: 'existing', id: 'c1', uic: 'MAIV287' },
        services: ['counselling'],
        items: [{ commodity: 'naloxone_nasal', quantity: 1 }],
        referrals: ['ost', 'ost'],
        tests: { hcv_rapid: { result: 'reactive', linkedToCare: true } },
      }),
    );
    expect(draft.client).toEqual({ id: 'c1' });
    expect(draft.services).toEqual(['kit', 'counselling', 'testing', 'referral']);
    expect(draft.referrals).toEqual([{ target: 'ost' }]);
    expect(draft.tests).toEqual([{ test: 'hcv_rapid', result: 'reactive', linked_to_care: true }]);
  });

  it('leaves out empty optional parts', () => {
    const draft = contactDraft(form({ client: { kind: 'anonymous' }, note: '   ', sharpsReturned: 0 }));
    expect(draft.client).toBeNull();
    expect(draft.services).toEqual([]);
    expect('note' in draft).toBe(false);
    expect('sharps_returned' in draft).toBe(false);
    const withNote = contactDraft(form({ client: { kind: 'anonymous' }, note: ' asked about OST ', sharpsReturned: 12 }));
    expect(withNote.note).toBe('asked about OST');
    expect(withNote.sharps_returned).toBe(12);
  });

  it('sends no overdose report while the section is closed', () => {
    const draft = contactDraft(form({ client: { kind: 'anonymous' } }));
    expect('overdose' in draft).toBe(false);
  });
});

describe('overdose response', () => {
  const anonymous = { client: { kind: 'anonymous' as const } };

  it('needs every answer once the section is opened', () => {
    expect(overdoseProblems(null)).toEqual([]);
    expect(overdoseProblems(emptyOverdoseForm())).toEqual(['overdose_emergency', 'overdose_stayed', 'overdose_outcome']);
    expect(contactProblems(form({ ...anonymous, overdose: { ...emptyOverdoseForm(), emergencyCalled: false } }))).toEqual([
      'overdose_stayed',
      'overdose_outcome',
    ]);
  });

  it('takes 0 to 50 whole doses of naloxone', () => {
    const answered = { naloxoneDoses: 0, emergencyCalled: true, stayedWithPerson: true, outcome: 'unknown' as const };
    expect(overdoseProblems(answered)).toEqual([]);
    expect(overdoseProblems({ ...answered, naloxoneDoses: 50 })).toEqual([]);
    for (const doses of [-1, 51, 1.5, Number.NaN]) expect(overdoseProblems({ ...answered, naloxoneDoses: doses }), String(doses)).toEqual(['overdose_doses']);
  });

  it('is sent with the contact as the record fields', () => {
    const draft = contactDraft(
      form({ ...anonymous, overdose: { naloxoneDoses: 3, emergencyCalled: false, stayedWithPerson: true, outcome: 'died' } }),
    );
    expect(draft.overdose).toEqual({ naloxone_doses: 3, emergency_called: false, stayed_with_person: true, outcome: 'died' });
    // An incomplete section is never half sent (the form shows its problems instead).
    expect('overdose' in contactDraft(form({ ...anonymous, overdose: emptyOverdoseForm() }))).toBe(false);
  });
});
