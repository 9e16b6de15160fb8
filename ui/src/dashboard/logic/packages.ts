/**
 * The service packages page's pure logic (docs/indicators.md, "Service packages"): every item a
 * package can ask for, each with a key for a `<select>`, the packages in force by population
 * (the programme's own or the shipped default), an empty package to start from, and the
 * server's checks (`reports::sets::packages::check`), which the fake server applies.
 */
import { REFERRAL_TARGETS, SERVICES, TESTS } from '../../lib/backend';
import { COMMODITY_CATEGORIES, POPULATIONS, type PackageItem, type Population, type ServicePackage } from '../api';

/** The most packages, groups per package and items per group the server accepts. */
export const MAX_PACKAGES = 40;
export const MAX_GROUPS = 12;
export const MAX_ITEMS = 12;

/** The kinds of item, in the order the picker lists them. */
export const ITEM_KINDS = ['received', 'category', 'service', 'tested', 'referred'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** The classes of items received that are not catalogue categories. */
export const RECEIVED_CLASSES = ['needle_syringe', 'condom', 'naloxone'] as const;

/** Which kind an item is, and its value (a class, category, service, test or referral target). */
export function itemParts(item: PackageItem): { kind: ItemKind; value: string } {
  if ('received' in item) {
    const received = item.received;
    return typeof received === 'string' ? { kind: 'received', value: received } : { kind: 'category', value: received.category };
  }
  if ('service' in item) return { kind: 'service', value: item.service };
  if ('tested' in item) return { kind: 'tested', value: item.tested };
  return { kind: 'referred', value: item.referred };
}

/** An item's key for a `<select>`: `service:counselling`, `category:sex`. */
export function itemKey(item: PackageItem): string {
  const { kind, value } = itemParts(item);
  return `${kind}:${value}`;
}

/** The item of a key, or null for a key that names none. */
export function itemOfKey(key: string): PackageItem | null {
  const at = key.indexOf(':');
  if (at < 0) return null;
  const kind = key.slice(0, at);
  const value = key.slice(at + 1);
  const known = (list: readonly string[]) => list.includes(value);
  switch (kind) {
    case 'received':
      return known(RECEIVED_CLASSES) ? { received: value as (typeof RECEIVED_CLASSES)[number] } : null;
    case 'category':
      return value.length > 0 && value.length <= 64 ? { received: { category: value } } : null;
    case 'service':
      return known(SERVICES) ? { service: value as (typeof SERVICES)[number] } : null;
    case 'tested':
      return known(TESTS) ? { tested: value as (typeof TESTS)[number] } : null;
    case 'referred':
      return known(REFERRAL_TARGETS) ? { referred: value as (typeof REFERRAL_TARGETS)[number] } : null;
    default:
      return null;
  }
}

/** Every item the picker offers, by kind (a category the programme wrote by hand is added). */
export function itemChoices(extraCategories: readonly string[] = []): { kind: ItemKind; items: PackageItem[] }[] {
  const categories = [...COMMODITY_CATEGORIES, ...extraCategories.filter((c) => !(COMMODITY_CATEGORIES as readonly string[]).includes(c))];
  return [
    { kind: 'received', items: RECEIVED_CLASSES.map((c) => ({ received: c })) },
    { kind: 'category', items: categories.map((category) => ({ received: { category } })) },
    { kind: 'service', items: SERVICES.map((service) => ({ service })) },
    { kind: 'tested', items: TESTS.map((tested) => ({ tested })) },
    { kind: 'referred', items: REFERRAL_TARGETS.map((referred) => ({ referred })) },
  ];
}

/** Categories named by the packages that are not the catalogue's own (kept selectable). */
export function otherCategories(packages: readonly ServicePackage[]): string[] {
  const seen = new Set<string>();
  for (const p of packages) {
    for (const group of p.requires) {
      for (const item of group) {
        const { kind, value } = itemParts(item);
        if (kind === 'category' && !(COMMODITY_CATEGORIES as readonly string[]).includes(value)) seen.add(value);
      }
    }
  }
  return [...seen];
}

/** A package in force, and whether it is the programme's own or a shipped default. */
export interface InForce {
  package: ServicePackage;
  own: boolean;
}

/** The packages in force per population, in the populations' order (populations without one too). */
export function byPopulation(effective: readonly ServicePackage[], own: readonly ServicePackage[]): { population: Population; packages: InForce[] }[] {
  const ownPopulations = new Set(own.map((p) => p.population));
  return POPULATIONS.map((population) => ({
    population,
    packages: effective.filter((p) => p.population === population).map((p) => ({ package: p, own: ownPopulations.has(population) })),
  }));
}

/**
 * A new package for the first population the programme has no package for yet (else
 * everyone), asking to start with what the shipped packages ask: condoms, and information or
 * counselling.
 */
export function newPackage(own: readonly ServicePackage[]): ServicePackage {
  const population = POPULATIONS.find((p) => !own.some((o) => o.population === p)) ?? 'everyone';
  return { population, requires: [[{ received: 'condom' }], [{ service: 'information' }, { service: 'counselling' }]] };
}

/** The packages as they are sent: plain copies (of the editor's live state too), no empty setting. */
export function packagesOut(packages: readonly ServicePackage[]): ServicePackage[] {
  return packages.map((p) => ({
    population: p.population,
    ...(p.setting ? { setting: p.setting } : {}),
    requires: p.requires.map((group) => group.map((item) => JSON.parse(JSON.stringify(item)) as PackageItem)),
  }));
}

/** The server's checks of a programme's packages; each problem names the package by position. */
export function packageProblems(packages: readonly ServicePackage[]): string[] {
  const problems: string[] = [];
  if (packages.length > MAX_PACKAGES) problems.push(`at most ${MAX_PACKAGES} packages`);
  packages.forEach((p, i) => {
    const n = i + 1;
    if (p.requires.length === 0) problems.push(`package ${n}: it requires nothing; add at least one group`);
    if (p.requires.length > MAX_GROUPS) problems.push(`package ${n}: at most ${MAX_GROUPS} groups`);
    p.requires.forEach((group, g) => {
      if (group.length === 0 || group.length > MAX_ITEMS) problems.push(`package ${n}, group ${g + 1}: 1 to ${MAX_ITEMS} items`);
      const bad = group.map(itemParts).find(({ kind, value }) => kind === 'category' && (value.length === 0 || value.length > 64));
      if (bad) problems.push(`package ${n}, group ${g + 1}: ${JSON.stringify(bad.value)} is not a catalogue category`);
    });
    if (packages.slice(0, i).some((q) => q.population === p.population && (q.setting ?? null) === (p.setting ?? null))) {
      problems.push(`package ${n}: a second package for the same population and setting`);
    }
  });
  return problems;
}

/** The shipped packages (the server's `packages::defaults`). */
export function defaultPackages(): ServicePackage[] {
  const prevention = (needles: boolean): PackageItem[][] => [
    ...(needles ? [[{ received: 'needle_syringe' } as PackageItem]] : []),
    [{ received: 'condom' }],
    [{ service: 'information' }, { service: 'counselling' }],
  ];
  return [
    { population: 'injects_drugs', requires: prevention(true) },
    { population: 'sex_work', requires: prevention(false) },
    { population: 'msm', requires: prevention(false) },
    { population: 'transgender', requires: prevention(false) },
    { population: 'everyone', requires: prevention(true) },
  ];
}

/** The packages in force: the programme's own, and the defaults of populations it wrote none for. */
export function effectivePackages(own: readonly ServicePackage[]): ServicePackage[] {
  return [...packagesOut(own), ...defaultPackages().filter((d) => !own.some((o) => o.population === d.population))];
}
