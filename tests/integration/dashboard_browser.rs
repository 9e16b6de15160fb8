//! The coordinators' dashboard in real headless Chromium (Debian's `chromium`, driven by
//! `playwright-core` from `ui/browser-tests/dashboard.mjs`) against a real server holding the
//! hand-counted fixture: log in, filter, read indicators, print the PEPFAR and WHO donor reports
//! to A4 PDFs and read their numbers (`pdftotext`), download an export and check it, see a
//! broken XLSForm refused with its rows, preview and publish a good one, resolve a conflict,
//! merge the same person registered at two sites (undo, merge again), log
//! out; then an admin sets up a site, a commodity and a kit, prints an enrolment card (its QR code
//! decoded here with `rqrr`) and disconnects a tablet from a phone-sized window.
//!
//! Runs when `OUTPOST_E2E=1` (`scripts/test.sh` sets it after installing Chromium and building
//! the dashboard). With `OUTPOST_SCREENSHOTS=DIR` the script saves the main pages there.

use outpost_server::services::accounts::{self, Role};
use outpost_server::settings::Settings;
use outpost_server::time::now_ms;
use outpost_tests::fixtures::{self, FROM, TO};
use outpost_tests::{Backend, SITE_A, SITE_B, TEST_PASSWORD, TestServer};
use serde_json::json;
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_reads_indicators_exports_and_resolves_a_conflict_in_chromium() -> anyhow::Result<()> {
    if std::env::var_os("OUTPOST_E2E").is_none() {
        eprintln!("dashboard browser test skipped: set OUTPOST_E2E=1 (scripts/test.sh does)");
        return Ok(());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let ui = root.join("ui");
    let dashboard_dir = ui.join("dist-dashboard");
    anyhow::ensure!(dashboard_dir.join("index.html").exists(), "build the dashboard first: (cd ui && npm run build)");
    let settings = Settings { dashboard_dir, ..Settings::default() };
    let server = TestServer::start_on(Backend::Sqlite, settings).await?;
    let fixture = fixtures::load(&server).await?;
    // One woman registered at both sites (no contacts, so the fixture's numbers stay): the
    // duplicate review offers the pair.
    for (device, first_seen) in [(&fixture.a, "2026-09-02T10:00:00Z"), (&fixture.b, "2026-09-20T10:00:00Z")] {
        device.create(
            outpost_core::Collection::Clients,
            json!({"uic": "MAIV287", "gender": "woman", "birth_year": 1987, "first_seen_at": first_seen}),
        )?;
        device.sync().await?;
    }
    accounts::create_user(
        &server.storage,
        "coordinator",
        TEST_PASSWORD,
        Role::Coordinator,
        &[SITE_A.into(), SITE_B.into()],
        now_ms(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    accounts::create_user(&server.storage, "admin", TEST_PASSWORD, Role::Admin, &[], now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The printed donor reports (suppression off) hold the fixture's hand-counted numbers: each
    // indicator's heading (its code, or its name) with its value on the same line, then rows of
    // its tables in print order (a category, then every cell of its row); see `dashboard.mjs`.
    let expect = json!({
        "from": FROM,
        "to": TO,
        "indicators": {"people_reached": "7", "contacts": "19", "needle_syringes_distributed": "80"},
        "export_kind": "contacts",
        "export_rows": 12,
        "conflicts": 1,
        "duplicate_code": "MAIV287",
        "donor_sites": [SITE_A, SITE_B],
        "donor_reports": [
            {"set": "pepfar_kp_prev", "name": "PEPFAR MER KP_PREV", "period": "October 2026", "indicators": [
                {"heading": "KP_PREV", "value": "3",
                 "rows": [["PWID", "3"], ["TG", "0"], ["FSW", "0"], ["MSM", "0"], ["PWID", "0", "3", "0"]]},
            ]},
            {"set": "who_nsp", "name": "WHO NSP coverage (WHO/UNODC/UNAIDS technical guide)", "period": "October 2026",
             "indicators": [
                {"heading": "PRV.10", "value": "0.5", "texts": ["Low coverage", "Target: 300 a year"]},
                {"heading": "Needle-syringes distributed", "value": "80"},
                {"heading": "PWID reached", "value": "4", "rows": [["Female", "1"], ["Male", "3"]]},
                {"heading": "PWID given needle-syringes", "value": "3"},
                {"heading": "PWID tested for HIV with a result", "value": "2"},
                {"heading": "PWID reached who were tested for HIV (%)", "value": "50%"},
            ]},
        ],
    });
    // A workbook with a select whose choice list does not exist, refused row by row.
    let files = tempfile::tempdir()?;
    let bad_form = files.path().join("broken-form.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let survey = workbook.add_worksheet().set_name("survey")?;
    for (row, cells) in
        [["type", "name", "label"], ["select_one colours", "colour", "Favourite colour?"]].iter().enumerate()
    {
        for (column, text) in cells.iter().enumerate() {
            survey.write_string(row as u32, column as u16, *text)?;
        }
    }
    workbook.save(&bad_form)?;
    let good_form = root.join("forms/community-monitoring.xlsx");
    let qr_out = files.path().join("enrolment-qr.json");
    let mut command = std::process::Command::new("node");
    command
        .arg("browser-tests/dashboard.mjs")
        .current_dir(&ui)
        .env("OUTPOST_DASHBOARD_URL", format!("{}/dashboard/", server.url()))
        .env("OUTPOST_DASHBOARD_USER", "coordinator")
        .env("OUTPOST_DASHBOARD_PASSWORD", TEST_PASSWORD)
        .env("OUTPOST_DASHBOARD_EXPECT", expect.to_string())
        .env("OUTPOST_DASHBOARD_FORM", &good_form)
        .env("OUTPOST_DASHBOARD_BAD_FORM", &bad_form)
        .env("OUTPOST_DASHBOARD_ADMIN", "admin")
        .env("OUTPOST_DASHBOARD_QR_OUT", &qr_out)
        .env("OUTPOST_DASHBOARD_ERASE_CODE", "ANBO101");
    // Every wait in the script has its own timeout, so it ends on its own.
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(output.status.success(), "the browser test failed:\n{stdout}\n{stderr}");

    // What the browser did is on the server: the export and the resolution are audited.
    let rows = server.storage.audit_log().await?;
    assert!(rows.iter().any(|r| r.action == "export" && r.actor == "user:coordinator"), "the download is audited");
    assert!(rows.iter().any(|r| r.action == "conflict.resolve"), "the resolution is audited");
    assert!(rows.iter().any(|r| r.action == "form.publish" && r.target == "cbm_default"), "the publication is audited");
    for action in ["client.merge", "client.unmerge"] {
        assert!(rows.iter().any(|r| r.action == action && r.actor == "user:coordinator"), "{action} is not audited");
    }
    let org = server.storage.the_org().await?;
    assert_eq!(server.storage.people(org).await?.active().len(), 1, "merged, undone, merged again");
    let versions: Vec<u32> = server.storage.forms(org).await?.into_iter().map(|(_, f)| f.version).collect();
    assert_eq!(versions, [1, 2], "the upload is the default form's next version");

    // The admin's set-up is on the server, and the printed QR code carries the code with the
    // server's address (read back from the SVG the browser showed).
    let card: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&qr_out)?)?;
    let code = card["code"].as_str().unwrap_or_default();
    let link = crate::administration::decode_qr_svg(card["svg"].as_str().unwrap_or_default())?;
    assert_eq!(link, format!("{}/enrol?code={code}", server.url()), "the QR code holds the enrolment link");
    assert!(server.storage.list_sites().await?.iter().any(|s| s.name == "Night bus" && s.pwid_estimate == Some(300)));
    let catalogue = outpost_server::services::admin::catalogue::commodities(&server.storage).await?;
    let added = catalogue.iter().find(|c| c.commodity.code == "syringe_05ml");
    assert_eq!(added.and_then(|c| c.commodity.names.get("ru")).map(String::as_str), Some("Шприц 0,5 мл"));
    let kits = outpost_server::services::admin::catalogue::kits(&server.storage).await?;
    assert!(kits.iter().any(|k| k.kit.code == "festival" && k.kit.items[0].commodity == "syringe_05ml"));
    let devices = server.storage.list_devices().await?;
    assert!(devices.iter().any(|d| d.name == "Lost tablet 7" && d.revoked_ms.is_some()), "renamed, then disconnected");
    let added = accounts::find_user(&server.storage, "night-coordinator").await?.map(|u| u.user);
    assert!(added.is_some_and(|u| u.password_temporary && u.role == Role::Coordinator), "the new account");
    assert!(server.storage.clients_with_code(org, "ANBO101").await?.is_empty(), "the erased client is still there");
    for action in [
        "site.add",
        "client.erase",
        "commodity.add",
        "kit.add",
        "enrollment_code.create",
        "device.rename",
        "device.revoke",
        "user.add",
    ] {
        assert!(rows_after(&server, action).await?, "{action} from the browser is not audited");
    }
    server.stop().await
}

async fn rows_after(server: &TestServer, action: &str) -> anyhow::Result<bool> {
    Ok(server.storage.audit_log().await?.iter().any(|r| r.action == action && r.actor == "user:admin"))
}
