// @vitest-environment happy-dom
import { fireEvent, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { setLanguage } from '../i18n/index.svelte';
import ContactForm from '../screens/ContactForm.svelte';
import { fakeSession, renderWith } from '../test/render';

describe('the catalogue on the tablet', () => {
  it('offers items in the programme order, in its own translation, and never a retired item or kit', async () => {
    const { backend, session } = await fakeSession();
    const list = backend.commodityList;
    const leaflet = list.find((c) => c.code === 'leaflet');
    const earplugs = list.find((c) => c.code === 'earplugs');
    if (!leaflet || !earplugs) throw new Error('the recorded catalogue changed');
    leaflet.retired = true;
    earplugs.names = { ru: 'Беруши (наши)' };
    backend.commodityList = [earplugs, ...list.filter((c) => c !== earplugs)];
    const smoking = backend.kits.find((k) => k.code === 'smoking');
    if (smoking) smoking.retired = true;
    await session.loadCatalogue();

    renderWith(ContactForm, session, { onsaved: () => {} });
    expect(screen.queryByRole('button', { name: 'Smoking kit' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Injecting kit' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Add an item' }));
    const chips = Array.from(document.querySelectorAll('.picker .chip')).map((c) => c.textContent?.trim());
    expect(chips[0]).toBe('Earplugs');
    expect(chips).not.toContain('Information leaflet');
    // History still names the retired item.
    expect(session.commodityName('leaflet')).toBe('Information leaflet');
    setLanguage('ru');
    expect(session.commodityName('earplugs')).toBe('Беруши (наши)');
    setLanguage('en');
  });
});
