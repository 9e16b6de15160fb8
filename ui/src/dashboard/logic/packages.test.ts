import { describe, expect, it } from 'vitest';
import type { ServicePackage } from '../api';
import {
  byPopulation,
  defaultPackages,
  effectivePackages,
  itemChoices,
  itemKey,
  itemOfKey,
  itemParts,
  newPackage,
  otherCategories,
  packageProblems,
  packagesOut,
} from './packages';

describe('package items', () => {
  it('each have a key the picker reads back', () => {
    const all = itemChoices().flatMap((c) => c.items);
    expect(all.length).toBe(3 + 9 + 10 + 5 + 11);
    for (const item of all) expect(itemOfKey(itemKey(item))).toEqual(item);
    expect(new Set(all.map(itemKey)).size).toBe(all.length);
    expect(itemKey({ received: { category: 'sex' } })).toBe('category:sex');
    expect(itemParts({ referred: 'ost' })).toEqual({ kind: 'referred', value: 'ost' });
  });

  it('refuse keys that name nothing', () => {
    for (const key of ['', 'service', 'service:flying', 'received:category', 'category:', 'tested:x', 'robots:ost']) expect(itemOfKey(key), key).toBeNull();
  });

  it('keep a category the programme named that the catalogue does not', () => {
    const own: ServicePackage[] = [{ population: 'msm', requires: [[{ received: { category: 'chemsex' } }, { received: { category: 'sex' } }]] }];
    expect(otherCategories(own)).toEqual(['chemsex']);
    const categories = itemChoices(otherCategories(own)).find((c) => c.kind === 'category')?.items.map(itemKey);
    expect(categories?.at(-1)).toBe('category:chemsex');
  });
});

describe('packages in force', () => {
  it("are shown per population, the programme's own replacing the default of theirs", () => {
    const own: ServicePackage[] = [{ population: 'injects_drugs', setting: 'nightlife', requires: [[{ received: 'naloxone' }]] }];
    const effective = effectivePackages(own);
    expect(effective.filter((p) => p.population === 'injects_drugs')).toEqual(own);
    expect(effective).toHaveLength(defaultPackages().length);
    const shown = byPopulation(effective, own);
    expect(shown.map((s) => s.population)).toEqual(['injects_drugs', 'uses_stimulants', 'sex_work', 'msm', 'nightlife', 'pregnant', 'transgender', 'everyone']);
    expect(shown[0].packages).toEqual([{ package: own[0], own: true }]);
    expect(shown[1].packages).toEqual([]);
    expect(shown[2].packages.map((p) => p.own)).toEqual([false]);
  });

  it('start a new package for the first population without one of the programme’s', () => {
    expect(newPackage([]).population).toBe('injects_drugs');
    expect(newPackage([{ population: 'injects_drugs', requires: [] }]).population).toBe('uses_stimulants');
    expect(packageProblems([newPackage([])])).toEqual([]);
  });

  it('are sent without an empty setting, as plain copies', () => {
    const edited = [{ population: 'msm', setting: undefined, requires: [[{ service: 'counselling' }]] }] as ServicePackage[];
    const out = packagesOut(edited);
    expect(out).toEqual([{ population: 'msm', requires: [[{ service: 'counselling' }]] }]);
    expect(Object.keys(out[0])).not.toContain('setting');
    expect(out[0].requires[0][0]).not.toBe(edited[0].requires[0][0]);
  });
});

describe("the server's checks", () => {
  it('refuse a package asking nothing, an empty group and a second package for one population and setting', () => {
    const empty: ServicePackage = { population: 'msm', requires: [] };
    const hollow: ServicePackage = { population: 'sex_work', requires: [[]] };
    expect(packageProblems([empty, hollow, empty])).toEqual([
      'package 1: it requires nothing; add at least one group',
      'package 2, group 1: 1 to 12 items',
      'package 3: it requires nothing; add at least one group',
      'package 3: a second package for the same population and setting',
    ]);
    const atNight: ServicePackage = { population: 'msm', setting: 'nightlife', requires: [[{ received: 'condom' }]] };
    expect(packageProblems([{ ...atNight, setting: undefined }, atNight])).toEqual([]);
    expect(packageProblems([{ population: 'msm', requires: [[{ received: { category: '' } }]] }])).toEqual(['package 1, group 1: "" is not a catalogue category']);
    expect(packageProblems(defaultPackages())).toEqual([]);
  });
});
