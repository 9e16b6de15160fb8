//! End-to-end test of the real app window: Xvfb + tauri-driver + WebKitWebDriver drive the built
//! `outpost-app` binary against a real local server. It enrols (by a pasted enrolment link), sets a PIN, records an outreach
//! contact with a new client, logs a window transaction for the returning client, locks and
//! unlocks, syncs, and checks that the records arrived on the server; adds an overdose report to
//! the past contact in History and syncs it; answers the published survey in kiosk mode (skip
//! logic, exit with the PIN) and checks that the response arrived; and checks that the tablet's
//! database holds none of it in plain text.
//!
//! Runs when `OUTPOST_E2E=1` (`scripts/test.sh` sets it after installing the tools). With
//! `OUTPOST_SCREENSHOTS=DIR` it also saves each main screen in both orientations.

use outpost_server_store::records::SnapshotRow;
use outpost_tests::webdriver::{Session, start_tauri_driver, start_xvfb};
use outpost_tests::{SITE_A, TestServer, built_binary};
use std::path::PathBuf;

const PIN: &str = "258036";

fn button(text: &str) -> String {
    format!("//button[normalize-space()=\"{text}\"]")
}

fn in_group(group: &str, text: &str) -> String {
    format!("//*[@aria-label=\"{group}\"]//button[normalize-space()=\"{text}\"]")
}

async fn enter_pin(app: &Session) -> anyhow::Result<()> {
    for digit in PIN.chars() {
        app.click(&button(&digit.to_string())).await?;
    }
    Ok(())
}

/// Starts a sync from the Sync screen and waits (30 s at most) until `arrived` finds in the
/// server's records what it looks for.
async fn sync_until<T>(
    app: &Session,
    server: &TestServer,
    what: &str,
    arrived: impl Fn(&[SnapshotRow]) -> Option<T>,
) -> anyhow::Result<T> {
    app.click("//button[contains(., 'Sync')][contains(., 'Send and receive')]").await?;
    app.click(&button("Sync now")).await?;
    let started = std::time::Instant::now();
    loop {
        if let Some(found) = arrived(&server.storage.snapshot().await?) {
            return Ok(found);
        }
        anyhow::ensure!(
            started.elapsed().as_secs() < 30,
            "{what} did not reach the server: {}",
            app.page_text().await?
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// Counts what a worker does for one task, as the window and street targets are set in taps and
/// seconds (printed, and held to the targets by the test).
struct Steps {
    taps: u32,
    keys: usize,
    started: std::time::Instant,
    /// Time spent on the test's own checks and photographs, not the worker's.
    excluded: std::time::Duration,
}

impl Steps {
    fn start() -> Self {
        Self { taps: 0, keys: 0, started: std::time::Instant::now(), excluded: std::time::Duration::ZERO }
    }

    async fn tap(&mut self, app: &Session, xpath: &str) -> anyhow::Result<()> {
        self.taps += 1;
        app.click(xpath).await
    }

    async fn type_into(&mut self, app: &Session, xpath: &str, text: &str) -> anyhow::Result<()> {
        self.keys += text.chars().count();
        app.type_into(xpath, text).await
    }

    /// Checks and photographs the screen (see [`Shots::take`]) without counting the time.
    async fn photograph(&mut self, shots: &Shots, app: &Session, name: &str) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let taken = shots.take(app, name).await;
        self.excluded += started.elapsed();
        taken
    }

    /// Prints the task's taps, keys typed and wall time, and adds the line to
    /// `target/tmp/app-e2e-steps.txt` (which `scripts/test.sh` shows after the tests, as the
    /// test harness keeps a passing test's output to itself); returns the time.
    fn report(&self, task: &str) -> std::time::Duration {
        let elapsed = self.started.elapsed().saturating_sub(self.excluded);
        let line = format!("{task}: {} taps, {} keys typed, {:.1} s", self.taps, self.keys, elapsed.as_secs_f64());
        println!("{line}");
        let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("app-e2e-steps.txt");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes()));
        if let Err(e) = written {
            eprintln!("could not note the steps: {e}");
        }
        elapsed
    }
}

/// The window sizes every main screen is checked at: a tablet in landscape and in portrait, and
/// a phone (412 × 915 CSS pixels, a common Android size).
const SIZES: [(&str, u32, u32); 3] = [("landscape", 1280, 800), ("portrait", 800, 1280), ("phone", 412, 915)];

struct Shots {
    dir: Option<PathBuf>,
}

impl Shots {
    /// Checks the screen's layout at every size (nothing under a bar, touch targets of 48 px,
    /// no sideways scrolling) and, with `OUTPOST_SCREENSHOTS`, photographs it in both tablet
    /// orientations. Ends in landscape.
    async fn take(&self, app: &Session, name: &str) -> anyhow::Result<()> {
        self.check_and_photograph(app, name, true).await
    }

    /// Checks the screen's layout at every size, without photographs.
    async fn check(&self, app: &Session, name: &str) -> anyhow::Result<()> {
        self.check_and_photograph(app, name, false).await
    }

    async fn check_and_photograph(&self, app: &Session, name: &str, photograph: bool) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        for (orientation, width, height) in SIZES {
            if (width, height) != (1280, 800) {
                app.resize(width, height).await?;
            }
            problems.extend(app.layout_problems().await?.into_iter().map(|p| format!("{orientation}: {p}")));
            if let Some(dir) = self.dir.as_ref().filter(|_| photograph && orientation != "phone") {
                app.screenshot(&dir.join(format!("app-{name}-{orientation}.png"))).await?;
            }
        }
        app.resize(1280, 800).await?;
        anyhow::ensure!(problems.is_empty(), "the {name} screen's layout:\n{}", problems.join("\n"));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_enrols_records_locks_unlocks_and_syncs_in_the_real_app() -> anyhow::Result<()> {
    if std::env::var_os("OUTPOST_E2E").is_none() {
        eprintln!("app end-to-end test skipped: set OUTPOST_E2E=1 (scripts/test.sh does)");
        return Ok(());
    }
    let shots = Shots { dir: std::env::var_os("OUTPOST_SCREENSHOTS").map(PathBuf::from) };
    let server = TestServer::start().await?;
    let code = server.enrollment_code(SITE_A).await?;
    let data = tempfile::tempdir()?;
    let data_dir = data.path().display().to_string();
    let (_xvfb, display) = start_xvfb(1280, 1280)?;
    let (_driver, driver_url) = start_tauri_driver(
        &display,
        &[("OUTPOST_APP_DATA_DIR", data_dir.as_str()), ("OUTPOST_AUTO_SYNC_SECS", "3600"), ("RUST_LOG", "warn")],
    )?;
    let app = Session::start(&driver_url, &built_binary("outpost-app")?).await?;
    app.resize(1280, 800).await?;

    // Enrolment: server, code, tablet name; then the worker and a PIN entered twice.
    // Enrolment by the link of the admin's enrolment card (pasted; typing the address and the
    // code apart is checked in Vitest): it fills in both.
    app.wait_text("Connect this tablet").await?;
    app.paste_into("//input[@id='enrol-code']", &outpost_core::wire::enrolment_link(&server.url(), &code)).await?;
    app.wait_text("Address and code taken from the enrolment link").await?;
    app.type_into("//input[@placeholder='Van 2 tablet']", "Window tablet").await?;
    shots.take(&app, "enrol").await?;
    app.click(&button("Connect")).await?;
    app.wait_text("Who is using the tablet?").await?;
    app.type_into("//input[@maxlength='40']", "Anna").await?;
    app.click(&button("Next")).await?;
    app.wait_text("Choose a PIN").await?;
    enter_pin(&app).await?;
    app.click(&button("Next")).await?;
    app.wait_text("Enter the same PIN again").await?;
    enter_pin(&app).await?;
    app.click(&button("Save")).await?;
    app.wait_text("What do you want to do?").await?;
    shots.take(&app, "home").await?;

    // An outreach contact with a new client: the code is built from the answers (only the
    // parents' names are typed; the year is two taps).
    // The steps of this run replace the last run's.
    let _ = std::fs::remove_file(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("app-e2e-steps.txt"));
    let mut steps = Steps::start();
    steps.tap(&app, "//button[contains(., 'New contact')]").await?;
    app.wait_text("Mother's first name").await?;
    steps.type_into(&app, "(//input[@data-private])[1]", "Maria").await?;
    steps.type_into(&app, "(//input[@data-private])[2]", "Ivan").await?;
    steps.tap(&app, &in_group("Sex", "Woman")).await?;
    steps.tap(&app, &in_group("Decade of birth", "1980–89")).await?;
    steps.tap(&app, &in_group("Last digit of the year", "1987")).await?;
    app.wait_text("MAIV287").await?;
    // Sex is asked once, with the code: the gender follows from it.
    app.wait_text("Gender: Woman (from the code questions)").await?;
    steps.tap(&app, &in_group("Where", "Street outreach")).await?;
    steps.tap(&app, "//*[@aria-label='Kit templates']//button[1]").await?;
    steps.photograph(&shots, &app, "new-contact").await?;
    steps.tap(&app, &button("Save contact")).await?;
    app.wait_text("Contact saved for MAIV287").await?;
    let outreach = steps.report("new outreach contact, new client (scripted input)");
    anyhow::ensure!(outreach.as_secs() < 45, "a new outreach contact took {outreach:?} (target under 45 s)");
    shots.check(&app, "new-contact saved").await?;
    app.click("//button[contains(normalize-space(), 'Home')]").await?;

    // The window fast path, code typed on the in-app pad: the returning client's usual kit,
    // then confirm.
    let mut steps = Steps::start();
    steps.tap(&app, "//button[contains(., 'Window quick-log')]").await?;
    for key in ["M", "A", "I", "V"] {
        steps.tap(&app, &format!("//*[@aria-label='Client code keys']//button[normalize-space()='{key}']")).await?;
    }
    let after_code = steps.taps;
    app.wait("//*[@aria-label='Matching clients']").await?;
    steps.photograph(&shots, &app, "quick-log-pad").await?;
    steps.tap(&app, "//*[@aria-label='Matching clients']//*[contains(normalize-space(), 'MAIV287')]").await?;
    app.wait_text("Usual kit").await?;
    steps.tap(&app, &button("Confirm for MAIV287")).await?;
    app.wait_text("Saved for MAIV287").await?;
    let fast = steps.report("window fast path, code typed on the pad");
    println!("  of which after the code: {} taps", steps.taps - after_code);
    anyhow::ensure!(steps.taps - after_code <= 3 && fast.as_secs() < 10, "the window fast path took too long");
    shots.check(&app, "quick-log saved").await?;

    // The same client again, picked from today's list: no code at all.
    let mut steps = Steps::start();
    steps.tap(&app, "//*[@data-testid='today-clients']//button[contains(., 'MAIV287')]").await?;
    app.wait_text("Already served today").await?;
    steps.photograph(&shots, &app, "quick-log").await?;
    steps.tap(&app, &button("Confirm for MAIV287")).await?;
    app.wait_text("Saved for MAIV287").await?;
    let picked = steps.report("window fast path, client picked from today's list");
    anyhow::ensure!(
        steps.taps <= 2 && steps.keys == 0 && picked.as_secs() < 10,
        "picking from today's list took too long"
    );
    app.click("//button[contains(normalize-space(), 'Home')]").await?;

    // Settings: the tablet is to be wiped after 5 wrong PINs instead of 10.
    app.click("//button[contains(., 'Settings')]").await?;
    shots.check(&app, "settings").await?;
    app.click("//*[@aria-label='Wipe the tablet after wrong PINs']//button[normalize-space()='5']").await?;
    app.wait(
        "//*[@aria-label='Wipe the tablet after wrong PINs']//button[normalize-space()='5'][@aria-checked='true']",
    )
    .await?;
    app.click("//button[contains(normalize-space(), 'Home')]").await?;

    // Lock and unlock.
    app.click(&button("Lock")).await?;
    app.wait_text("Enter your PIN").await?;
    shots.take(&app, "lock").await?;
    for digit in "1357".chars() {
        app.click(&button(&digit.to_string())).await?;
    }
    if app.find(&button("Unlock")).await?.is_some() {
        app.click(&button("Unlock")).await?;
    }
    app.wait_text("Wrong PINs left before everything on this tablet is erased: 4.").await?;
    let lock_file: serde_json::Value = serde_json::from_slice(&std::fs::read(data.path().join("lock.json"))?)?;
    assert_eq!(lock_file["failed_attempts"], serde_json::json!(1), "the wrong PIN is counted");
    assert_eq!(
        lock_file["kdf"],
        serde_json::json!({"memory_kib": 65536, "passes": 3}),
        "a new PIN's key derivation has the current cost, recorded beside the salt"
    );
    assert_eq!(lock_file["max_attempts"], serde_json::json!(5), "the limit chosen in Settings");
    // The right PIN, and the window keeps answering while its key is derived (64 MiB of
    // Argon2id): a status asked after the unlock began comes back before the unlock does.
    let timing = app
        .execute_async(
            "const [pin, done] = arguments;
             const invoke = window.__TAURI_INTERNALS__.invoke;
             const started = performance.now();
             const times = {};
             const unlocking = invoke('unlock', { pin }).then(
                 () => { times.unlocked = performance.now() - started; },
                 (e) => { times.error = JSON.stringify(e); });
             invoke('status').then((s) => { times.status = performance.now() - started; times.locked = s.locked; });
             unlocking.then(() => setTimeout(() => done(times), 100));",
            serde_json::json!([PIN]),
        )
        .await?;
    assert!(timing.get("error").is_none(), "the right PIN unlocks: {timing}");
    let (status_ms, unlocked_ms) = (timing["status"].as_f64(), timing["unlocked"].as_f64());
    assert!(
        matches!((status_ms, unlocked_ms), (Some(s), Some(u)) if s < u) && timing["locked"] == serde_json::json!(true),
        "the status answered while the PIN was still being checked: {timing}"
    );
    app.execute_async("const done = arguments[0]; location.reload(); done(true);", serde_json::json!([])).await?;
    app.wait_text("What do you want to do?").await?;

    // Sync, and the records are on the server.
    let rows = sync_until(&app, &server, "the records", |rows| {
        let count = |c: &str| rows.iter().filter(|r| r.collection == c).count();
        (count("contacts") == 3 && count("clients") == 1).then(|| rows.to_vec())
    })
    .await?;
    let count = |c: &str| rows.iter().filter(|r| r.collection == c).count();
    let client = rows.iter().find(|r| r.collection == "clients").map(|r| r.state.values());
    assert_eq!(client.and_then(|c| c.get("uic").cloned()), Some(serde_json::json!("MAIV287")));
    assert!(count("distribution_lines") >= 2, "both kits arrived");
    shots.take(&app, "sync").await?;

    // The other main screens open from Home (and are photographed for the README).
    for (tile, hint, shown, name) in [
        ("Stock", "Levels, deliveries", "Record a movement", "stock"),
        ("Referrals", "Follow up", "Referral follow-up", "referrals"),
        ("History and corrections", "Today's and past", "Contacts: 3", "history"),
        ("Group tally", "Festivals and events", "Save tally", "tally"),
        ("Survey", "Anonymous feedback", "Help us improve our services", "survey"),
    ] {
        app.click("//button[contains(normalize-space(), 'Home')]").await?;
        app.wait_text("What do you want to do?").await?;
        app.click(&format!("//button[contains(., '{tile}')][contains(., \"{hint}\")]")).await?;
        app.wait_text(shown).await?;
        shots.take(&app, name).await?;
    }

    // A past contact's overdose report is added in History, then synced like any change.
    app.click("//button[contains(normalize-space(), 'Home')]").await?;
    app.click("//button[contains(., 'History and corrections')]").await?;
    app.click("//button[contains(@class, 'entry')][contains(., 'Street outreach')]").await?;
    app.click(&button("Record an overdose response")).await?;
    app.click("//button[@aria-label='Naloxone doses given: one more']").await?;
    app.click("//button[@aria-label='Naloxone doses given: one more']").await?;
    app.click(&in_group("Emergency services called", "Yes")).await?;
    app.click(&in_group("Stayed with the person", "Yes")).await?;
    app.click(&in_group("Outcome", "Survived")).await?;
    app.click(&button("Save the overdose report")).await?;
    app.wait_text("Overdose report added.").await?;
    app.wait_text("Change the overdose report").await?;
    shots.take(&app, "history").await?; // again, now with a contact open
    app.click("//button[contains(normalize-space(), 'Home')]").await?;
    let rows = sync_until(&app, &server, "the overdose report", |rows| {
        rows.iter().any(|r| r.collection == "overdose_reports").then(|| rows.to_vec())
    })
    .await?;
    let report = rows.iter().find(|r| r.collection == "overdose_reports").map(|r| r.state.values()).unwrap_or_default();
    assert_eq!(report.get("naloxone_doses"), Some(&serde_json::json!(2)));
    assert_eq!(report.get("outcome"), Some(&serde_json::json!("survived")));
    let outreach = rows.iter().find(|r| {
        r.collection == "contacts" && r.state.values().get("setting") == Some(&serde_json::json!("street_outreach"))
    });
    assert_eq!(
        report.get("contact_id").and_then(|v| v.as_str()),
        outreach.map(|c| c.id.to_string()).as_deref(),
        "the report belongs to the outreach contact"
    );

    // Recorded by mistake: removed in History, and the removal reaches the server too.
    app.click("//button[contains(normalize-space(), 'Home')]").await?;
    app.click("//button[contains(., 'History and corrections')]").await?;
    app.click("//button[contains(@class, 'entry')][contains(., 'Street outreach')]").await?;
    app.click(&button("Remove the overdose report")).await?;
    app.click(&button("Yes, remove the report")).await?;
    app.wait_text("Overdose report removed.").await?;
    app.click("//button[contains(normalize-space(), 'Home')]").await?;
    sync_until(&app, &server, "the removal", |rows| {
        rows.iter().any(|r| r.collection == "overdose_reports" && r.state.deleted.is_some()).then_some(())
    })
    .await?;
    // The programme's published survey (the server's default XLSForm) in kiosk mode: skip logic
    // opens the follow-up, the response reaches the server, and leaving needs the PIN.
    app.click("//button[contains(normalize-space(), 'Home')]").await?;
    app.click("//button[contains(., 'Survey')][contains(., 'Anonymous feedback')]").await?;
    app.click(&button("Hand the tablet to the client")).await?;
    app.wait_text("How did staff treat you today?").await?;
    anyhow::ensure!(
        app.find("//button[contains(normalize-space(), 'Home')]").await?.is_none(),
        "kiosk mode hides Home"
    );
    app.click("//button[@role='radio'][normalize-space()='Well']").await?;
    app.wait_text("Did you get everything you came for?").await?;
    app.click("//button[@role='radio'][normalize-space()='Partly']").await?;
    app.wait_text("What was missing?").await?;
    app.click(&button("Naloxone")).await?;
    shots.take(&app, "survey-form").await?;
    app.click("//button[starts-with(normalize-space(), 'Next')]").await?;
    for page in 4..=9 {
        app.wait_text(&format!("Question {page} of 9")).await?;
        app.click(&button("Skip")).await?;
    }
    app.wait_text("Thank you!").await?;
    app.click(&button("Staff: exit")).await?;
    app.wait_text("Enter your PIN").await?;
    enter_pin(&app).await?;
    if app.find(&button("Unlock")).await?.is_some() {
        app.click(&button("Unlock")).await?;
    }
    app.wait_text("What do you want to do?").await?;
    let response = sync_until(&app, &server, "the survey response", |rows| {
        rows.iter().find(|r| r.collection == "survey_responses").map(|r| r.state.values())
    })
    .await?;
    assert_eq!(response.get("survey_id"), Some(&serde_json::json!("cbm_default")));
    assert_eq!(
        response.get("answers"),
        Some(&serde_json::json!({"q1": "well", "q2": "partly", "q2_missing": ["naloxone"]}))
    );
    app.close().await?;

    // The tablet's files hold no plain text of what was entered.
    for entry in std::fs::read_dir(data.path())? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("device.db")) {
            let bytes = std::fs::read(&path)?;
            for needle in [&b"MAIV287"[..], b"street_outreach", b"syringe_1ml", b"SQLite format"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} contains {:?}",
                    path.display(),
                    String::from_utf8_lossy(needle)
                );
            }
        }
    }
    server.stop().await
}
