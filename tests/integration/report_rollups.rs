//! The reports' rollups (`outpost_server_store::rollup`) against what they summarise, on both
//! backends: kept up to date change by change (contacts moved to another day, month,
//! setting or client, lines reversed, tests and referrals changed or deleted, contacts deleted),
//! they hold exactly what a rebuild from scratch holds; and a period that is not made of whole
//! months (rollups for its months, contacts for its edge days) reads the same as the contacts
//! themselves.

use outpost_core::{Collection, RecordId};
use outpost_server::settings::Settings;
use outpost_server_store::rollup::PeriodVisits;
use outpost_server_store::{Statement, Store};
use outpost_tests::{Backend, TestServer, fixtures};
use serde_json::json;

on_both_backends!(rollups_kept_change_by_change_equal_a_rebuild_and_the_contacts);

/// Every row of the three rollups, as text, in a fixed order.
async fn rollups(storage: &Store) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for sql in [
        "SELECT site_id, month, client_id, days, settings, services, tests, referrals FROM report_visits ORDER BY 1, 2, 3",
        "SELECT site_id, month, client_id, commodity, quantity FROM report_items ORDER BY 1, 2, 3, 4",
        "SELECT site_id, day, kind, key, n FROM report_site_days ORDER BY 1, 2, 3, 4",
    ] {
        for row in storage.query(Statement::query(sql, vec![])).await? {
            out.push(row.iter().map(|v| v.to_text()).collect::<Vec<_>>().join(" "));
        }
    }
    Ok(out)
}

/// Catches up, then checks the rollups against a rebuild (a changed layout fingerprint makes
/// the next catch-up rebuild them) and returns them.
async fn caught_up_and_checked(storage: &Store, step: &str) -> anyhow::Result<Vec<String>> {
    storage.refresh_projection().await?;
    let kept = rollups(storage).await?;
    storage
        .execute(vec![Statement::exec("UPDATE report_progress SET last_seq = -1 WHERE name = 'rollup_layout'", vec![])])
        .await?;
    storage.refresh_projection().await?;
    let rebuilt = rollups(storage).await?;
    assert_eq!(kept, rebuilt, "after {step}: the rollups kept change by change differ from a rebuild");
    Ok(kept)
}

/// The visits in one order (the rollups are read in the table's order).
fn sorted(mut period: PeriodVisits) -> PeriodVisits {
    period.visits.sort_by(|a, b| (&a.client_id, &a.site_id, &a.month).cmp(&(&b.client_id, &b.site_id, &b.month)));
    period
}

async fn periods_read_as_the_contacts(storage: &Store) -> anyhow::Result<()> {
    let sites: Vec<outpost_core::SiteId> = storage.list_sites().await?.into_iter().map(|s| s.id).collect();
    for (from, until) in [
        ("2026-10-01", "2026-11-01"),
        ("2026-10-05", "2026-10-21"),
        ("2026-09-20", "2026-11-10"),
        ("2026-10-12", "2026-10-13"),
        ("2026-10-31", "2026-11-03"),
        ("2025-12-01", "2026-12-01"),
    ] {
        let rolled = sorted(storage.period_visits(&sites, from, until).await?);
        let direct = sorted(storage.period_visits_from_contacts(&sites, from, until).await?);
        assert_eq!(rolled, direct, "{from} to {until}: the rollups read otherwise than the contacts");
        let one_site = sorted(storage.period_visits(&sites[..1], from, until).await?);
        assert_eq!(one_site, sorted(storage.period_visits_from_contacts(&sites[..1], from, until).await?));
    }
    Ok(())
}

async fn rollups_kept_change_by_change_equal_a_rebuild_and_the_contacts(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let fx = fixtures::load(&server).await?;
    let storage = &server.storage;
    let first = caught_up_and_checked(storage, "the fixture").await?;
    assert!(first.iter().any(|r| r.contains(" 2026-10 ")), "the fixture's October is rolled up: {first:?}");
    periods_read_as_the_contacts(storage).await?;

    // A new client's contact with a line, a reactive test and a referral.
    let (a, b) = (&fx.a, &fx.b);
    let client = a.create(Collection::Clients, json!({"uic": "ROLL190", "gender": "woman", "birth_year": 1990}))?;
    let contact = a.create(
        Collection::Contacts,
        json!({"client_id": client.to_string(), "setting": "window", "occurred_at": "2026-10-15T09:30:00Z", "services": ["kit", "testing"]}),
    )?;
    let line = a.create(
        Collection::DistributionLines,
        json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
    )?;
    let test = a.create(
        Collection::TestResults,
        json!({"contact_id": contact.to_string(), "client_id": client.to_string(), "test": "hiv_rapid", "result": "reactive"}),
    )?;
    // A second test, never changed until it is deleted (after the simulated upgrade below).
    let untouched = a.create(
        Collection::TestResults,
        json!({"contact_id": contact.to_string(), "client_id": client.to_string(), "test": "hcv_rapid", "result": "non_reactive"}),
    )?;
    let referral = a.create(
        Collection::Referrals,
        json!({"contact_id": contact.to_string(), "client_id": client.to_string(), "target": "art_hiv_care", "status": "issued", "status_at": "2026-10-15T09:30:00Z"}),
    )?;
    a.sync().await?;
    let added = caught_up_and_checked(storage, "a new contact").await?;
    assert!(added.iter().any(|r| r.contains(&client.to_string())), "the new client is rolled up");
    periods_read_as_the_contacts(storage).await?;

    // As on a server upgraded to the rollups: child records without links. The first catch-up
    // (a rebuild) links them, so deleting the test below still redoes its place.
    storage
        .execute(vec![
            Statement::exec("DELETE FROM report_links", vec![]),
            Statement::exec("UPDATE report_progress SET last_seq = -1 WHERE name = 'rollup_layout'", vec![]),
        ])
        .await?;
    caught_up_and_checked(storage, "an upgrade").await?;

    // The contact moves to another month and another client, changes setting and services; its
    // line is reversed, its test result and referral status change.
    let other = a.create(Collection::Clients, json!({"uic": "ROLL285", "gender": "man", "birth_year": 1985}))?;
    a.update(
        Collection::Contacts,
        contact,
        json!({"client_id": other.to_string(), "occurred_at": "2026-11-02T08:00:00Z", "setting": "street_outreach", "services": ["counselling"]}),
    )?;
    a.create(
        Collection::DistributionLines,
        json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 10, "reverses": line.to_string()}),
    )?;
    a.update(Collection::TestResults, test, json!({"result": "non_reactive"}))?;
    a.update(Collection::Referrals, referral, json!({"status": "attended", "status_at": "2026-11-03T10:00:00Z"}))?;
    a.sync().await?;
    let moved = caught_up_and_checked(storage, "a contact moved").await?;
    assert!(!moved.iter().any(|r| r.contains(&client.to_string())), "the first client keeps nothing: {moved:?}");
    periods_read_as_the_contacts(storage).await?;

    // A contact at the other site, then the test and the contact itself deleted.
    let there = b.create(
        Collection::Contacts,
        json!({"client_id": other.to_string(), "setting": "mobile_van", "occurred_at": "2026-11-02T15:00:00Z", "services": ["kit"]}),
    )?;
    b.create(
        Collection::DistributionLines,
        json!({"contact_id": there.to_string(), "commodity": "condom_external", "quantity": 3}),
    )?;
    b.sync().await?;
    a.with(|s| s.delete(Collection::TestResults, test))?;
    a.sync().await?;
    caught_up_and_checked(storage, "a test deleted").await?;
    a.with(|s| s.delete(Collection::TestResults, untouched))?;
    a.sync().await?;
    let without = caught_up_and_checked(storage, "a test from before the upgrade deleted").await?;
    assert!(
        !without.iter().any(|r| r.contains("hcv_rapid|non_reactive")),
        "the deleted test still counts: {without:?}"
    );
    a.with(|s| s.delete(Collection::Contacts, contact))?;
    a.sync().await?;
    let deleted = caught_up_and_checked(storage, "a contact deleted").await?;
    let visits_of_other: Vec<&String> =
        deleted.iter().filter(|r| r.contains(&other.to_string()) && r.contains(" 2026-11 ")).collect();
    assert_eq!(visits_of_other.len(), 2, "only the other site's visit and item stay: {visits_of_other:?}");
    periods_read_as_the_contacts(storage).await?;
    let _: RecordId = there;
    Ok(())
}
