//! Erasing a client on request (issue 18, item 8): every record about them is emptied on the
//! server, leaves its reports and is emptied on every tablet at its next sync; the audit log
//! says who and why but not the code; bad requests change nothing.

use outpost_core::Collection;
use outpost_server::services::accounts::Role;
use outpost_server::services::admin::erasure::erase_client;
use outpost_server::services::admin::{Actor, AdminError, Scope};
use outpost_server::settings::Settings;
use outpost_server_store::{RowExt, Statement};
use outpost_tests::{Backend, SITE_A, SimDevice, TestServer, WebClient, assert_converged};
use serde_json::json;

on_both_backends!(an_erased_client_leaves_the_server_its_reports_and_every_tablet);

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
    a.sync().await?;
    b.sync().await?;
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
    server.stop().await
}
