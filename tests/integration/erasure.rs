//! Erasing a client on request (issue 18, item 8): every record about them is emptied on the
//! server, leaves its reports and is emptied on every tablet at its next sync; the audit log
//! says who and why but not the code; bad requests change nothing.

use outpost_core::Collection;
use outpost_server::services::accounts::Role;
use outpost_server::services::admin::erasure::erase_client;
use outpost_server::services::admin::{Actor, AdminError, Scope};
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_server_store::{RowExt, Statement};
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, WebClient, assert_converged};
use serde_json::json;

on_both_backends!(
    an_erased_client_leaves_the_server_its_reports_and_every_tablet,
    the_retention_period_erases_what_is_older_and_keeps_the_rest_and_the_stock,
);

/// Stock levels per commodity at `site`, on the server and on a tablet.
async fn levels(server: &TestServer, device: &SimDevice) -> anyhow::Result<(Vec<(String, i64)>, Vec<(String, i64)>)> {
    let site = device.site_id();
    let on_server = outpost_server::services::reports::stock(&server.storage, &[site], now_ms()).await?;
    let mut on_server: Vec<(String, i64)> =
        on_server.levels.into_iter().map(|l| (l.commodity, l.level)).filter(|(_, l)| *l != 0).collect();
    on_server.sort();
    let mut on_tablet: Vec<(String, i64)> = device
        .with(|s| s.stock_levels(site))?
        .into_iter()
        .map(|l| (l.commodity, l.level))
        .filter(|(_, l)| *l != 0)
        .collect();
    on_tablet.sort();
    Ok((on_server, on_tablet))
}

async fn an_erased_client_leaves_the_server_its_reports_and_every_tablet(backend: Backend) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let b = SimDevice::enroll(&server, SITE_A).await?;
    let visit = |client: outpost_core::RecordId, day: u32| -> anyhow::Result<Vec<outpost_core::RecordId>> {
        let contact = a.create(
            Collection::Contacts,
            json!({"setting": "window", "occurred_at": format!("2026-11-{day:02}T10:00:00Z"), "client_id": client.to_string(), "note": "asked about OST"}),
        )?;
        let line = a.create(
            Collection::DistributionLines,
            json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
        )?;
        let returned = a.create(Collection::SharpsReturns, json!({"contact_id": contact.to_string(), "count": 4}))?;
        Ok(vec![contact, line, returned])
    };
    let erased = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    let twice = a.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    let kept = a.create(Collection::Clients, json!({"uic": "OLPE190", "gender": "man"}))?;
    let mut gone = vec![(Collection::Clients, erased), (Collection::Clients, twice)];
    for (i, id) in visit(erased, 3)?.into_iter().chain(visit(twice, 4)?).enumerate() {
        let collection = [Collection::Contacts, Collection::DistributionLines, Collection::SharpsReturns][i % 3];
        gone.push((collection, id));
    }
    let stays = visit(kept, 5)?;
    a.create(
        Collection::StockMovements,
        json!({"commodity": "syringe_1ml", "quantity": 100, "kind": "received", "occurred_at": "2026-11-01T09:00:00Z"}),
    )?;
    a.sync().await?;
    b.sync().await?;
    let stock_before = levels(&server, &a).await?;
    assert_eq!(stock_before.0, vec![("syringe_1ml".to_string(), 70)], "{stock_before:?}");
    assert_eq!(stock_before.0, stock_before.1);
    server.storage.refresh_projection().await?;
    let projected = || async {
        let rows = server.storage.query(Statement::query("SELECT id FROM report_contacts ORDER BY id", vec![])).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.as_slice().col(0)).collect::<Result<_, _>>()?;
        anyhow::Ok(ids)
    };
    assert_eq!(projected().await?.len(), 3);

    // Refused, with nothing erased: a coordinator, a code the scheme cannot read, no reason, a
    // code nobody has.
    let coordinator = Actor { name: "user:coord".into(), address: None, scope: Scope::Sites(vec![]) };
    let refusals = [
        erase_client(&server.storage, &coordinator, "MAIV287", "asked").await,
        erase_client(&server.storage, &Actor::cli(), "12", "asked").await,
        erase_client(&server.storage, &Actor::cli(), "MAIV287", "  ").await,
        erase_client(&server.storage, &Actor::cli(), "NAVI185", "asked").await,
    ];
    assert!(matches!(refusals[0], Err(AdminError::Forbidden(_))), "{:?}", refusals[0]);
    assert!(matches!(&refusals[1], Err(AdminError::Invalid(p)) if p[0].field == "code"), "{:?}", refusals[1]);
    assert!(matches!(&refusals[2], Err(AdminError::Invalid(p)) if p[0].field == "reason"), "{:?}", refusals[2]);
    assert!(matches!(refusals[3], Err(AdminError::NotFound(_))), "{:?}", refusals[3]);
    // Over HTTP: every problem named, a body with other fields refused, an unknown code 404.
    let web = WebClient::logged_in(&server, "eraser", Role::Admin, &[]).await?;
    let path = "/api/v1/dashboard/admin/clients/erase";
    let (status, body) = web.post(path, &json!({"code": "", "reason": ""})).await?;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_field")), "{body}");
    assert_eq!(body["details"].as_array().map(Vec::len), Some(2), "{body}");
    let (status, body) = web.post(path, &json!({"code": "MAIV287", "reason": "asked", "also": 1})).await?;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_body")), "{body}");
    let (status, _) = web.post(path, &json!({"code": "NAVI185", "reason": "asked"})).await?;
    assert_eq!(status, 404);
    for (collection, id) in &gone {
        let state = server.storage.record(collection.name(), *id).await?;
        assert!(state.is_some_and(|s| s.deleted.is_none()), "a refused erasure removed {collection} {id}");
    }

    // Both records of the code (registered twice) and everything on them go; the other client
    // stays. The code is read as the scheme normalises it.
    let done = erase_client(&server.storage, &Actor::cli(), " maiv287 ", "the client asked on 6 December").await?;
    assert_eq!((done.clients, done.records), (2, gone.len()));
    // The reports' rollups hold nothing of them from the erasure's commit on, before any report
    // catches up: one contact (the other client's) is counted, by the other client only.
    let rolled = server
        .storage
        .query(Statement::query(
            "SELECT client_id FROM report_visits UNION ALL SELECT client_id FROM report_items",
            vec![],
        ))
        .await?;
    let rolled: Vec<String> = rolled.iter().map(|r| r.as_slice().col(0)).collect::<Result<_, _>>()?;
    assert_eq!(rolled, vec![kept.to_string(); 2], "the rollups still hold the erased client");
    let counted = server
        .storage
        .query(Statement::query("SELECT CAST(SUM(n) AS BIGINT) FROM report_site_days WHERE kind = 'setting'", vec![]))
        .await?;
    assert_eq!(counted.first().map(|r| r.as_slice().col::<i64>(0)).transpose()?, Some(1));
    let emptied = |state: Option<outpost_core::merge::RecordState>| {
        state.is_none_or(|s| s.deleted.is_some() && s.fields.is_empty())
    };
    for (collection, id) in &gone {
        assert!(
            emptied(server.storage.record(collection.name(), *id).await?),
            "{collection} {id} is still on the server"
        );
    }
    assert!(server.storage.record("clients", kept).await?.is_some());
    for (collection, id) in
        [Collection::Contacts, Collection::DistributionLines, Collection::SharpsReturns].iter().zip(&stays)
    {
        assert!(server.storage.record(collection.name(), *id).await?.is_some(), "the other client's {collection} went");
    }
    server.storage.refresh_projection().await?;
    assert_eq!(projected().await?, vec![stays[0].to_string()], "the reports still count the erased client");
    let log = server.storage.audit_log().await?;
    let entry = log.iter().find(|r| r.action == "client.erase").ok_or_else(|| anyhow::anyhow!("not audited"))?;
    assert_eq!(entry.actor, "cli");
    assert!(entry.detail.contains("the client asked on 6 December") && entry.target.contains(&erased.to_string()));
    assert!(log.iter().all(|r| !format!("{r:?}").to_uppercase().contains("MAIV287")), "the code is in the audit log");
    let export = serde_json::to_string(&server.storage.export().await?)?;
    assert!(!export.contains("MAIV287"), "the code is still on the server");

    // Every tablet empties them at its next sync, append-only lines included; nothing else is
    // lost.
    for device in [&a, &b] {
        device.sync().await?;
        for (collection, id) in &gone {
            assert!(emptied(device.with(|s| s.get(*collection, *id))?), "{collection} {id} is still on a tablet");
        }
        assert!(device.with(|s| s.get(Collection::Clients, kept))?.is_some());
    }
    let c = SimDevice::enroll(&server, SITE_A).await?;
    c.sync().await?;
    assert!(emptied(c.with(|s| s.get(Collection::Clients, erased))?));
    assert_converged(&server, &[&a, &b, &c]).await?;
    // The syringes given to the erased client left the shelves all the same: stock is as it was,
    // on the server and on every tablet.
    for device in [&a, &b, &c] {
        assert_eq!(levels(&server, device).await?, stock_before, "erasing changed the stock");
    }
    server.stop().await
}

/// The retention period: people not seen since the cut-off go with everything about them;
/// contacts and survey responses before it go, whoever they were for; people seen since (and
/// anyone merged with them), recent work, group tallies and stock movements stay, and stock
/// levels do not move. Audited as the server, with counts only; a bad period is refused.
async fn the_retention_period_erases_what_is_older_and_keeps_the_rest_and_the_stock(
    backend: Backend,
) -> anyhow::Result<()> {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let a = SimDevice::enroll(&server, SITE_A).await?;
    let today = outpost_server::time::date_of(now_ms());
    let contact = |client: Option<outpost_core::RecordId>,
                   at: &str|
     -> anyhow::Result<(outpost_core::RecordId, outpost_core::RecordId)> {
        let mut fields = json!({"setting": "window", "occurred_at": at});
        if let Some(client) = client {
            fields["client_id"] = json!(client.to_string());
        }
        let contact = a.create(Collection::Contacts, fields)?;
        let line = a.create(
            Collection::DistributionLines,
            json!({"contact_id": contact.to_string(), "commodity": "syringe_1ml", "quantity": 10}),
        )?;
        Ok((contact, line))
    };
    let client = |code: &str, first_seen: &str| {
        a.create(Collection::Clients, json!({"uic": code, "gender": "man", "first_seen_at": first_seen}))
    };
    // Gone: not seen for two years.
    let gone = client("OLPE190", "2024-01-10T10:00:00Z")?;
    let (gone_contact, gone_line) = contact(Some(gone), "2024-01-10T10:00:00Z")?;
    // Stays, without its old contact: seen today too.
    let active = client("MAIV287", "2024-01-12T10:00:00Z")?;
    let (old_contact, old_line) = contact(Some(active), "2024-01-12T10:00:00Z")?;
    let (new_contact, _) = contact(Some(active), &format!("{today}T08:00:00Z"))?;
    // Stays: an old registration of the same person, merged into the active one.
    let merged = client("MAIV287", "2023-06-01T10:00:00Z")?;
    // Gone: an old contact without a client, and an old survey response.
    let (anonymous, _) = contact(None, "2024-03-01T10:00:00Z")?;
    let old_survey = a.create(
        Collection::SurveyResponses,
        json!({"survey_id": "cbm_default", "survey_version": 1, "occurred_at": "2024-03-01T10:00:00Z", "answers": {"q1": "well"}}),
    )?;
    let new_survey = a.create(
        Collection::SurveyResponses,
        json!({"survey_id": "cbm_default", "survey_version": 1, "occurred_at": format!("{today}T09:00:00Z"), "answers": {"q1": "well"}}),
    )?;
    let received = a.create(
        Collection::StockMovements,
        json!({"commodity": "syringe_1ml", "quantity": 200, "kind": "received", "occurred_at": "2023-12-01T09:00:00Z"}),
    )?;
    let first = a.sync().await?;
    assert_eq!(first.rejected, 0, "{first:?}");
    // A coordinator merges the two registrations (merges are made on the server).
    let org = server.storage.org_settings().await?.id;
    let merge = server.storage.merge_clients(org, merged, active, now_ms()).await?;
    let stock_before = levels(&server, &a).await?;
    assert_eq!(stock_before.0, vec![("syringe_1ml".to_string(), 160)], "{stock_before:?}");

    // No period: nothing happens. A period out of range is refused and changes nothing.
    use outpost_server::services::admin::erasure::apply_retention;
    use outpost_server::services::admin::org::{OrganisationForm, change, get};
    assert_eq!(apply_retention(&server.storage, now_ms()).await?, None);
    let current = get(&server.storage).await?;
    let form = |days: Option<u32>| OrganisationForm {
        name: current.name.clone(),
        default_language: current.default_language.clone(),
        uic_scheme: current.uic_scheme.clone(),
        retention_days: days,
        client_index: false,
        nsp_target: None,
    };
    for days in [0, 29, 36_501] {
        let refused = change(&server.storage, &Actor::cli(), &form(Some(days))).await;
        assert!(
            matches!(&refused, Err(AdminError::Invalid(p)) if p[0].field == "retention_days"),
            "{days}: {refused:?}"
        );
    }
    assert_eq!(get(&server.storage).await?.retention_days, None);
    let coordinator = Actor { name: "user:coord".into(), address: None, scope: Scope::Sites(vec![]) };
    assert!(matches!(change(&server.storage, &coordinator, &form(Some(365))).await, Err(AdminError::Forbidden(_))));
    assert_eq!(change(&server.storage, &Actor::cli(), &form(Some(365))).await?.retention_days, Some(365));

    let run = apply_retention(&server.storage, now_ms()).await?.ok_or_else(|| anyhow::anyhow!("no run"))?;
    assert_eq!((run.clients, run.contacts, run.surveys), (1, 3, 1), "{run:?}");
    let is_gone = |state: Option<outpost_core::merge::RecordState>| state.is_none_or(|s| s.deleted.is_some());
    for (collection, id) in [
        (Collection::Clients, gone),
        (Collection::Contacts, gone_contact),
        (Collection::DistributionLines, gone_line),
        (Collection::Contacts, old_contact),
        (Collection::DistributionLines, old_line),
        (Collection::Contacts, anonymous),
        (Collection::SurveyResponses, old_survey),
    ] {
        assert!(is_gone(server.storage.record(collection.name(), id).await?), "{collection} {id} outlived the period");
    }
    for (collection, id) in [
        (Collection::Clients, active),
        (Collection::Clients, merged),
        (Collection::ClientMerges, merge),
        (Collection::Contacts, new_contact),
        (Collection::SurveyResponses, new_survey),
        (Collection::StockMovements, received),
    ] {
        assert!(!is_gone(server.storage.record(collection.name(), id).await?), "{collection} {id} was erased");
    }
    // A second run finds nothing; the tablet follows; stock has not moved.
    let again = apply_retention(&server.storage, now_ms()).await?.ok_or_else(|| anyhow::anyhow!("no run"))?;
    assert_eq!(again.records, 0, "{again:?}");
    a.sync().await?;
    assert!(is_gone(a.with(|s| s.get(Collection::Clients, gone))?));
    assert_eq!(levels(&server, &a).await?, stock_before, "the retention period changed the stock");
    assert_converged(&server, &[&a]).await?;
    let log = server.storage.audit_log().await?;
    let entries: Vec<_> = log.iter().filter(|r| r.action == "retention.erase").collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].actor, "server");
    assert!(entries[0].detail.contains("1 client record(s)"), "{}", entries[0].detail);
    assert!(log.iter().all(|r| !format!("{r:?}").contains("OLPE190")), "a code is in the audit log");
    server.stop().await
}
