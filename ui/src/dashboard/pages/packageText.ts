/**
 * The words of the service packages page, in the reader's language: populations (the key
 * groups' own names where there is one), settings, and each item a package can ask for.
 */
import { has, t } from '../../i18n/index.svelte';
import { KEY_GROUPS, type PackageItem, type Population, type Setting } from '../api';
import { itemParts } from '../logic/packages';

export function populationLabel(population: Population): string {
  return (KEY_GROUPS as readonly string[]).includes(population) ? t(`key_group.${population}`) : t(`dashboard.packages.population.${population}`);
}

export function settingLabel(setting: Setting): string {
  return t(`setting.${setting}`);
}

/** A catalogue category's name (one the programme typed by hand is shown as it is). */
export function categoryLabel(category: string): string {
  return has(`dashboard.catalogue.categories.${category}`) ? t(`dashboard.catalogue.categories.${category}`) : category;
}

/** "Needle-syringes received", "Service: Counselling", "Tested (with a result): HIV rapid test"… */
export function itemLabel(item: PackageItem): string {
  const { kind, value } = itemParts(item);
  switch (kind) {
    case 'received':
      return t(`dashboard.packages.received.${value}`);
    case 'category':
      return t('dashboard.packages.item.category', { category: categoryLabel(value) });
    case 'service':
      return t('dashboard.packages.item.service', { service: t(`service.${value}`) });
    case 'tested':
      return t('dashboard.packages.item.tested', { test: t(`test.${value}`) });
    case 'referred':
      return t('dashboard.packages.item.referred', { target: t(`referral.${value}`) });
  }
}
