// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setLanguage } from '../../i18n/index.svelte';
import { dashboardOn, renderPage } from '../testing';
import Packages from './Packages.svelte';

async function setup(prepare?: (api: Awaited<ReturnType<typeof dashboardOn>>['api']) => void) {
  const { api, state } = await dashboardOn({ signedInAs: 'admin' });
  prepare?.(api);
  renderPage(Packages, state);
  await screen.findByTestId('packages-editor');
  return { api, state };
}

const text = (el: Element | null | undefined) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
const population = (key: string) => {
  const found = screen.getAllByTestId('population').find((p) => p.dataset.population === key);
  if (!found) throw new Error(`no population ${key}`);
  return found;
};

/** Chooses an option of a select by its value. */
async function choose(select: HTMLElement, value: string) {
  await fireEvent.change(select, { target: { value } });
}

describe('service packages', () => {
  it('shows the packages in force population by population, each the shipped default', async () => {
    await setup();
    const pwid = population('injects_drugs');
    expect(within(pwid).getByRole('heading').textContent).toBe('Injects drugs');
    expect(within(pwid).getByTestId('package-in-force').dataset.own).toBe('false');
    expect(text(pwid)).toContain('Shipped default');
    expect(within(pwid).getAllByRole('listitem').map(text)).toEqual([
      'Needle-syringes received',
      'Condoms received',
      'Service: Information or Service: Counselling',
    ]);
    expect(text(population('transgender'))).toContain('Transgender people');
    expect(text(population('uses_stimulants'))).toContain('No package of its own: counted with everyone else.');
    expect(screen.getByTestId('packages-none')).toBeTruthy();
    expect((screen.getByTestId('packages-save') as HTMLButtonElement).disabled).toBe(true);
  });

  it('adds a package for a setting, with an item added to a group and a new group, and posts the whole list', async () => {
    const { api } = await setup();
    await fireEvent.click(screen.getByTestId('package-add'));
    const edit = screen.getByTestId('package-edit');
    // A new package starts as the shipped ones do, for the first population without one of the programme's.
    expect((within(edit).getByTestId('package-population') as HTMLSelectElement).value).toBe('injects_drugs');
    await choose(within(edit).getByTestId('package-population'), 'uses_stimulants');
    await choose(within(edit).getByTestId('package-setting'), 'nightlife');

    const first = () => within(edit).getAllByTestId('package-group')[0];
    await fireEvent.click(within(first()).getByTestId('group-add-item'));
    const items = within(first()).getAllByTestId('package-item') as HTMLSelectElement[];
    expect(items.map((i) => i.value)).toEqual(['received:condom', 'received:needle_syringe']);
    // The choices are labelled in the reader's language, by kind.
    const groups = Array.from(items[1].querySelectorAll('optgroup')).map((g) => g.label);
    expect(groups).toEqual(['Items received', 'Items of a catalogue category', 'Services', 'Tests with a result', 'Referrals']);
    expect(Array.from(items[1].querySelectorAll('option')).map((o) => o.textContent)).toContain('Received an item of: Safer sex');
    await choose(items[1], 'category:sex');

    await fireEvent.click(within(edit).getByTestId('package-add-group'));
    const third = within(edit).getAllByTestId('package-group')[2];
    await choose(within(third).getByTestId('package-item'), 'tested:hiv_rapid');
    expect(screen.getByTestId('packages-unsaved')).toBeTruthy();

    await fireEvent.submit(screen.getByTestId('packages-editor'));
    await screen.findByTestId('packages-saved');
    expect(api.callsOf('savePackages')).toEqual([
      [
        {
          packages: [
            {
              population: 'uses_stimulants',
              setting: 'nightlife',
              requires: [
                [{ received: 'condom' }, { received: { category: 'sex' } }],
                [{ service: 'information' }, { service: 'counselling' }],
                [{ tested: 'hiv_rapid' }],
              ],
            },
          ],
        },
      ],
    ]);
    const stimulants = population('uses_stimulants');
    expect(within(stimulants).getByTestId('package-in-force').dataset.own).toBe('true');
    expect(text(stimulants)).toContain("Programme's own");
    expect(text(stimulants)).toContain('Only after a contact at: Nightlife / festival');
    expect(text(stimulants)).toContain('Condoms received or Received an item of: Safer sex');
    expect(text(stimulants)).toContain('Tested, with a result: HIV rapid test');
    expect(screen.queryByTestId('packages-unsaved')).toBeNull();
  });

  it("shows the server's refusal of an empty group and a second package for one population, and saves nothing", async () => {
    const { api } = await setup();
    await fireEvent.click(screen.getByTestId('package-add'));
    await fireEvent.click(screen.getByTestId('package-add'));
    const [one, two] = screen.getAllByTestId('package-edit');
    await choose(within(two).getByTestId('package-population'), 'injects_drugs');
    const group = within(one).getAllByTestId('package-group')[0];
    await fireEvent.click(within(group).getByTestId('item-remove'));
    expect(text(group)).toContain('This group has no item: add one or remove the group.');

    await fireEvent.submit(screen.getByTestId('packages-editor'));
    const problems = await screen.findByTestId('packages-problems');
    expect(text(problems)).toContain('Not saved: 2 problems.');
    expect(within(problems).getAllByRole('listitem').map(text)).toEqual([
      'package 1, group 1: 1 to 12 items',
      'package 2: a second package for the same population and setting',
    ]);
    expect(api.ownPackages).toEqual([]);

    await fireEvent.click(within(one).getAllByTestId('group-remove')[0]);
    await fireEvent.click(within(two).getByTestId('package-remove'));
    await fireEvent.submit(screen.getByTestId('packages-editor'));
    await screen.findByTestId('packages-saved');
    expect(screen.queryByTestId('packages-problems')).toBeNull();
    expect(api.ownPackages).toEqual([{ population: 'injects_drugs', requires: [[{ service: 'information' }, { service: 'counselling' }]] }]);
  });

  it('goes back to the shipped packages after a confirmation, posting an empty list', async () => {
    const { api } = await setup((a) => {
      a.ownPackages = [{ population: 'sex_work', requires: [[{ received: 'condom' }], [{ referred: 'srh_gynaecology' }]] }];
    });
    expect(text(population('sex_work'))).toContain("Programme's own");
    expect(text(population('sex_work'))).toContain('Referred to: Sexual health / gynaecology');
    expect(screen.getAllByTestId('package-edit')).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('packages-reset'));
    expect(text(screen.getByTestId('packages-reset-box'))).toContain("Remove all the programme's own packages");
    expect(api.callsOf('savePackages')).toEqual([]);
    await fireEvent.click(screen.getByTestId('packages-reset-confirm'));
    expect(text(await screen.findByTestId('packages-saved'))).toBe('The shipped packages apply again.');
    expect(api.callsOf('savePackages')).toEqual([[{ packages: [] }]]);
    expect(api.ownPackages).toEqual([]);
    await waitFor(() => expect(text(population('sex_work'))).toContain('Shipped default'));
    expect(screen.queryAllByTestId('package-edit')).toEqual([]);
    expect(screen.queryByTestId('packages-reset')).toBeNull();
  });

  it('names populations, settings and items in the reader’s language', async () => {
    await setup((a) => {
      a.ownPackages = [{ population: 'everyone', setting: 'mobile_van', requires: [[{ service: 'naloxone_training' }, { received: 'naloxone' }]] }];
    });
    setLanguage('ru');
    await waitFor(() => expect(within(population('everyone')).getByRole('heading').textContent).toBe('Все остальные'));
    expect(text(population('everyone'))).toContain('Пакет программы');
    expect(text(population('everyone'))).toContain('Получен налоксон');
    setLanguage('en');
  });
});
