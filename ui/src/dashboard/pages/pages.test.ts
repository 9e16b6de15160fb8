// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { dashboardOn, renderPage } from '../testing';
import Audit from './Audit.svelte';
import Devices from './Devices.svelte';
import Exports from './Exports.svelte';
import Stock from './Stock.svelte';
import Surveys from './Surveys.svelte';

describe('devices page', () => {
  it('highlights devices not synced for over 7 days and marks revoked ones', async () => {
    const { state } = await dashboardOn();
    renderPage(Devices, state);
    const rows = await screen.findAllByTestId('device-row');
    expect(rows.map((r) => r.querySelector('.name')?.textContent)).toEqual([
      'Outreach bag 1',
      'Van 2 tablet',
      'Drop-in window tablet',
      'Old tablet (lost)',
    ]);
    expect(rows.map((r) => r.dataset.stale)).toEqual(['true', 'false', 'false', 'false']);
    expect(within(rows[0]).getByText('11 days ago')).toBeTruthy();
    expect(within(rows[1]).getByText(/^Clock off by \+11 min/)).toBeTruthy();
    expect(within(rows[1]).getByText('Times corrected: 4')).toBeTruthy();
    expect(within(rows[3]).getByTestId('revoked').textContent).toBe('Disconnected');
    expect(screen.getByTestId('stale-count').textContent).toBe('1');
    // A tablet that has not synced for 11 days holds work the server does not have.
    expect(within(rows[0]).getByTestId('device-unsent').textContent).toBe('37 changes not yet on the server');
  });
});

describe('stock page', () => {
  it('puts low stock first and can show only it', async () => {
    const { api, state } = await dashboardOn();
    renderPage(Stock, state);
    const table = await screen.findByTestId('stock-levels');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows[0].dataset.low).toBe('true');
    const lowCount = rows.filter((r) => r.dataset.low === 'true').length;
    expect(lowCount).toBeGreaterThan(0);
    expect(screen.getByTestId('low-count').textContent).toBe(`Need attention: ${lowCount}`);
    await fireEvent.click(screen.getByLabelText('Low stock only'));
    expect(within(table).getAllByRole('row').slice(1)).toHaveLength(lowCount);
    expect(api.callsOf('stock')).toEqual([[[]]]);
    expect(screen.getAllByText('Syringe 1 ml (insulin, fixed needle)').length).toBeGreaterThan(0);
  });

  it('lists batches expiring soon, and the expired ones, with their dates', async () => {
    const { state } = await dashboardOn();
    renderPage(Stock, state);
    const table = await screen.findByTestId('stock-expiring');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]).getByText('in 21 days')).toBeTruthy();
    expect(within(rows[0]).getByText('NX-2291')).toBeTruthy();
    expect(within(rows[1]).getByText('expired')).toBeTruthy();
    expect(within(rows[1]).getByText('—')).toBeTruthy(); // no batch recorded
  });
});

describe('survey results', () => {
  it('are hidden until at least 5 responses', async () => {
    const { state } = await dashboardOn();
    state.chooseCustom({ from: '2026-11-01', to: '2026-11-05' });
    renderPage(Surveys, state);
    expect((await screen.findByTestId('survey-hidden')).textContent).toContain('Results are hidden until there are at least 5 responses');
  });

  it('count answers per question in questionnaire order', async () => {
    const { state } = await dashboardOn();
    state.chooseCustom({ from: '2026-10-01', to: '2026-10-31' });
    renderPage(Surveys, state);
    const q1 = await screen.findByTestId('survey-q1');
    expect(within(q1).getByText('How did staff treat you today?')).toBeTruthy();
    expect(within(q1).getAllByRole('row').slice(1).map((r) => r.querySelector('th')?.textContent)).toEqual([
      'Very badly',
      'Badly',
      'Neither well nor badly',
      'Well',
      'Very well',
    ]);
    expect(screen.getByTestId('survey-responses').textContent).toBe('10');
  });
});

describe('exports page', () => {
  it('links to the file for the chosen kind, format and filter', async () => {
    const { state } = await dashboardOn();
    state.chooseCustom({ from: '2026-10-01', to: '2026-10-31' });
    renderPage(Exports, state);
    const link = screen.getByTestId('export-download') as HTMLAnchorElement;
    expect(link.hasAttribute('download')).toBe(true);
    expect(link.getAttribute('href')).toBe('/api/v1/dashboard/export/indicators?format=csv&from=2026-10-01&to=2026-10-31&suppress=true');
    await fireEvent.click(screen.getByTestId('export-kind-contacts'));
    await fireEvent.click(screen.getByTestId('export-format-xlsx'));
    expect(link.getAttribute('href')).toBe('/api/v1/dashboard/export/contacts?format=xlsx&from=2026-10-01&to=2026-10-31&suppress=true');
    expect(link.textContent?.trim()).toBe('Download Contacts (XLSX)');
    expect(screen.getByText(/Every export is recorded in the audit log/)).toBeTruthy();
  });
});

describe('audit log', () => {
  it('is readable by admins and searchable', async () => {
    const { state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Audit, state);
    const table = await screen.findByTestId('audit');
    expect(within(table).getAllByRole('row')).toHaveLength(6);
    await fireEvent.input(screen.getByPlaceholderText('Search the log'), { target: { value: 'revoke' } });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(2));
  });

  it('shows "—" for an entry without an address, and searches the others by address', async () => {
    const { state } = await dashboardOn({ signedInAs: 'admin' });
    renderPage(Audit, state);
    const table = await screen.findByTestId('audit');
    const addresses = within(table).getAllByTestId('audit-address').map((c) => c.textContent);
    expect(addresses).toEqual(['10.0.0.12', '10.0.0.12', '10.0.0.31', '—', '10.0.0.12']);
    const cli = within(table).getByText('device.revoke').closest('tr')!;
    expect(within(cli).getByTestId('audit-address').textContent).toBe('—');

    await fireEvent.input(screen.getByPlaceholderText('Search the log'), { target: { value: '10.0.0.31' } });
    await waitFor(() => expect(within(table).getAllByRole('row')).toHaveLength(2));
    expect(within(table).getByText('conflict.resolve')).toBeTruthy();
  });

  it('refuses coordinators with the server message', async () => {
    const { state } = await dashboardOn();
    renderPage(Audit, state);
    expect((await screen.findByTestId('page-error')).textContent).toContain('Only admins may read the audit log.');
  });
});
