//! Golden request/response fixtures of the real commands, for the UI's fake backend: this test
//! runs the app's own command handlers (Tauri's mock runtime, the real capability file, a real
//! encrypted store and a real server) through a worker's day and records every call and its
//! answer in `ui/src/lib/generated/backend-fixtures.json`. The fake replays those answers, so it
//! can only say what the real backend says (PIN rules, wrong-PIN back-off, the code builder,
//! the catalogue, refusals). Ids, times, addresses and codes are replaced by stable
//! placeholders; the test fails when the committed file differs, and
//! `OUTPOST_UPDATE_GENERATED=1 cargo test -p outpost-app --test backend_fixtures` rewrites it.

use outpost_app::state::AppState;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/generated/backend-fixtures.json");

/// Replaces what differs from run to run with stable placeholders.
struct Normaliser {
    ids: HashMap<String, String>,
    fixed: Vec<(String, String)>,
    today: String,
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

impl Normaliser {
    fn value(&mut self, v: &Value, key: &str) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Number(n) if key.ends_with("_ms") && n.as_u64().is_some_and(|ms| ms > 1_000_000_000_000) => {
                json!(1_767_225_600_000u64)
            }
            // Waits are multiples of 30 s, counted down while the recorder runs (an Argon2 check
            // can take seconds on a loaded machine): rounding up to 10 s gives the policy's value.
            Value::Number(n) if key == "retry_after_ms" => {
                json!(n.as_u64().map_or(0, |ms| ms.div_ceil(10_000) * 10_000))
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x, key)).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), self.value(x, k))).collect()),
            other => other.clone(),
        }
    }

    fn text(&mut self, s: &str) -> String {
        if is_uuid(s) {
            let n = self.ids.len() + 1;
            return self.ids.entry(s.to_string()).or_insert_with(|| format!("00000000-0000-4000-8000-{n:012}")).clone();
        }
        if s.len() == 20 && s.starts_with(&self.today) && s.ends_with('Z') {
            return "2026-01-01T09:00:00Z".into();
        }
        let mut out = s.to_string();
        for (from, to) in &self.fixed {
            out = out.replace(from, to);
        }
        out
    }
}

struct Recorder {
    webview: tauri::WebviewWindow<tauri::test::MockRuntime>,
    entries: Vec<Value>,
    normaliser: Normaliser,
}

impl Recorder {
    /// Calls `command` as the UI does and records the exchange; returns the raw answer.
    fn call(&mut self, command: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args.clone()),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        let answer = get_ipc_response(&self.webview, request).map(|b| b.deserialize::<Value>().unwrap_or(Value::Null));
        let args = self.normaliser.value(&args, "");
        let entry = match &answer {
            Ok(v) => json!({"command": command, "args": args, "ok": self.normaliser.value(v, "")}),
            Err(e) => json!({"command": command, "args": args, "error": self.normaliser.value(e, "")}),
        };
        self.entries.push(entry);
        answer
    }

    fn ok(&mut self, command: &str, args: Value) -> Value {
        self.call(command, args.clone()).unwrap_or_else(|e| panic!("{command} {args} failed: {e}"))
    }

    fn refused(&mut self, command: &str, args: Value) -> Value {
        match self.call(command, args.clone()) {
            Ok(v) => panic!("{command} {args} should be refused, answered {v}"),
            Err(e) => e,
        }
    }
}

/// The app's state, to stand in for time passing: the recorder does not sit out waits.
fn state(app: &tauri::App<tauri::test::MockRuntime>) -> Arc<AppState> {
    app.state::<Arc<AppState>>().inner().clone()
}

/// Waits for the sync the app started after enrolment; syncs once more if it did not complete.
fn settle_the_first_sync(runtime: &tokio::runtime::Runtime, app: &tauri::App<tauri::test::MockRuntime>) {
    let synced = || {
        let store = state(app).store().expect("unlocked");
        let last = store.lock().unwrap_or_else(|p| p.into_inner()).last_sync_ms().expect("meta");
        last.is_some()
    };
    for _ in 0..100 {
        if synced() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    runtime
        .block_on(outpost_app::sync::run_with(&|_: &str, _: Value| {}, state(app)))
        .unwrap_or_else(|e| panic!("the first sync: {e:?}"));
}

/// The wait after a wrong PIN is over.
fn the_wait_passes(app: &tauri::App<tauri::test::MockRuntime>) {
    state(app).guard().lock.locked_until_ms = 0;
}

/// The tablet's clock runs `ms` ahead (0: back to real time).
fn the_clock_moves_on(app: &tauri::App<tauri::test::MockRuntime>, ms: u64) {
    let store = state(app).store().expect("unlocked");
    store.lock().unwrap_or_else(|p| p.into_inner()).set_clock_offset_ms(ms as i64);
}

fn recorded() -> Vec<Value> {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let server = runtime.block_on(outpost_tests::TestServer::start()).expect("server");
    let code = runtime.block_on(server.enrollment_code(outpost_tests::SITE_A)).expect("code");
    let data = tempfile::tempdir().expect("data dir");
    let app = outpost_app::app(mock_builder(), None).build(tauri::generate_context!()).expect("app");
    outpost_app::install(app.handle(), data.path().to_path_buf()).expect("state");
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().expect("window");
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let mut r = Recorder {
        webview,
        entries: Vec::new(),
        normaliser: Normaliser {
            ids: HashMap::new(),
            fixed: vec![(server.url(), "http://outpost.test".into()), (code.clone(), "ABCD-EFGH-JKLM".into())],
            today,
        },
    };

    // A new tablet: nothing to unlock, enrolment first.
    r.ok("status", json!({}));
    r.refused("set_pin", json!({"pin": "258036", "worker": "Anna"}));
    r.refused("enroll", json!({"serverUrl": "outpost.test", "code": code, "deviceName": "Window tablet"}));
    r.refused(
        "enroll",
        json!({"serverUrl": "http://outpost.example.org", "code": code, "deviceName": "Window tablet"}),
    );
    r.refused("enroll", json!({"serverUrl": server.url(), "code": "WRON-GCOD-E000", "deviceName": "Window tablet"}));
    r.refused("enroll", json!({"serverUrl": server.url(), "code": code, "deviceName": " "}));
    r.ok("enroll", json!({"serverUrl": server.url(), "code": code, "deviceName": "Window tablet"}));
    r.ok("status", json!({}));
    for weak in ["12345", "123456", "987654", "111111", "1234567890123", "12a456"] {
        r.refused("set_pin", json!({"pin": weak, "worker": "Anna"}));
    }
    r.refused("set_pin", json!({"pin": "258036", "worker": " "}));
    r.ok("set_pin", json!({"pin": "258036", "worker": "Anna"}));
    // The sync the app starts after enrolling runs on its own: let it end (or, when it ran before
    // the PIN opened the store and stopped at once, sync in its place) before anything else
    // reaches the server, so what the next syncs find does not depend on which ran first.
    settle_the_first_sync(&runtime, &app);
    // The programme's contact questions, published before the first sync.
    runtime.block_on(server.publish_xlsform(&outpost_tests::fixtures::contact_questions())).expect("contact questions");
    r.ok("sync_now", json!({}));
    r.ok("status", json!({}));

    // Reference data and the code builder.
    r.ok("commodities", json!({}));
    r.ok("kit_templates", json!({}));
    for answers in [
        json!({"mother_first_name": "Maria", "father_first_name": "Ivan", "sex": "2", "birth_year": "1987"}),
        json!({"mother_first_name": "Мария", "father_first_name": "Иван", "sex": "2", "birth_year": "1987"}),
        json!({"mother_first_name": "Élodie", "father_first_name": "Jürgen", "sex": "1", "birth_year": "1990"}),
        json!({"mother_first_name": "Ольга", "father_first_name": "Петро", "sex": "1", "birth_year": "1990"}),
        json!({"mother_first_name": "Наталья", "father_first_name": "", "sex": "3", "birth_year": "1975"}),
        json!({"mother_first_name": "A", "father_first_name": "Li", "sex": "2", "birth_year": "2001"}),
        json!({}),
        // As the UI's builder sends the answers of its tests (blank answers left out).
        json!({"mother_first_name": "Olga", "father_first_name": "Petr", "sex": "2", "birth_year": "1990"}),
        json!({"mother_first_name": "Olga", "father_first_name": "Petr", "sex": "3", "birth_year": "1990"}),
        json!({"mother_first_name": "Olga", "father_first_name": "Petr"}),
        json!({"mother_first_name": "Maria", "father_first_name": "Ivanna", "sex": "1", "birth_year": "1987"}),
        json!({"mother_first_name": "Olga", "father_first_name": "Semyon", "sex": "1", "birth_year": "1992"}),
    ] {
        r.ok("build_uic", json!({"answers": answers}));
    }
    for bad in [
        json!({"mother_first_name": "Maria", "father_first_name": "Ivan", "sex": "4", "birth_year": "1987"}),
        json!({"mother_first_name": "Maria", "father_first_name": "Ivan", "sex": "2", "birth_year": "87"}),
        json!({"mother_first_name": "Maria", "father_first_name": "Ivan", "sex": "2", "birth_year": "1850"}),
        json!({"mother_first_name": "x".repeat(101), "father_first_name": "Ivan", "sex": "2", "birth_year": "1987"}),
    ] {
        r.refused("build_uic", json!({"answers": bad}));
    }

    // A contact with a new client, and everything a contact holds.
    let saved = r.ok(
        "save_contact",
        json!({"contact": {
            "client": {"new": {"uic": "MAIV287", "gender": "woman", "birth_year": 1987, "key_groups": ["injects_drugs"]}},
            "setting": "street_outreach", "occurred_at": "2025-11-24T10:00:00Z",
            "services": ["kit", "counselling"], "collecting_for": 2, "note": "Met at the station",
            "items": [{"commodity": "syringe_1ml", "quantity": 10}, {"commodity": "alcohol_swab", "quantity": 10}],
            "sharps_returned": 8, "referrals": [{"target": "ost"}],
            "tests": [{"test": "hiv_rapid", "result": "non_reactive", "linked_to_care": false}],
            "overdose": null
        }}),
    );
    let contact = saved["contact_id"].as_str().unwrap_or_default().to_string();
    let client = saved["client_id"].as_str().unwrap_or_default().to_string();
    r.refused(
        "save_contact",
        json!({"contact": {"client": null, "setting": "nowhere", "services": [], "collecting_for": 0,
        "items": [], "referrals": [], "tests": []}}),
    );
    r.refused("save_contact", json!({"contact": {"client": null, "setting": "window", "services": [], "collecting_for": 0,
        "items": [{"commodity": "syringe_1ml", "quantity": 10}], "referrals": [], "tests": [],
        "overdose": {"naloxone_doses": 51, "emergency_called": true, "stayed_with_person": true, "outcome": "survived"}}}));
    r.ok(
        "save_contact",
        json!({"contact": {"client": {"id": client}, "setting": "window", "services": ["kit"],
        "collecting_for": 0, "items": [{"commodity": "syringe_1ml", "quantity": 10}], "referrals": [], "tests": []}}),
    );
    // The programme's contact questions, checked as they are answered and saved with a contact.
    r.ok("offered_forms", json!({"kind": "contact_questions"}));
    let drug_use = |answers: Value| json!({"formId": "drug_use", "version": 1, "answers": answers, "language": "en"});
    r.ok("check_form", drug_use(json!({})));
    r.ok("check_form", drug_use(json!({"where_used": "street"})));
    r.ok("check_form", drug_use(json!({"where_used": "street", "days_injected": 45})));
    r.ok("check_form", drug_use(json!({"where_used": "street", "days_injected": 12})));
    let with_questions = |days: u32| {
        json!({"contact": {"client": {"id": client}, "setting": "street_outreach", "occurred_at": "2025-11-24T11:00:00Z",
            "services": [], "collecting_for": 0, "items": [], "referrals": [], "tests": [],
            "questions": [{"form_id": "drug_use", "version": 1, "answers": {"where_used": "street", "days_injected": days}}]}})
    };
    r.ok("save_contact", with_questions(12));
    r.refused("save_contact", with_questions(45));
    r.ok("find_clients", json!({"prefix": "MAIV"}));
    r.ok("find_clients", json!({"prefix": "ZZZZ"}));
    r.ok("near_matches", json!({"uic": "MAIV288"}));
    r.ok("client_history", json!({"clientId": client, "limit": 10}));
    r.ok("contacts_between", json!({"from": "2025-11-24T00:00:00Z", "to": "2025-11-25T00:00:00Z", "limit": 200}));

    // Corrections within the edit window.
    r.ok("update_contact", json!({"id": contact, "fields": {"note": "Met near the station", "setting": null}}));
    r.refused("reverse_line", json!({"contactId": contact, "commodity": "syringe_1ml", "quantity": 11}));
    r.ok("reverse_line", json!({"contactId": contact, "commodity": "syringe_1ml", "quantity": 4}));
    r.refused(
        "update_overdose",
        json!({"contactId": contact, "overdose": {"naloxone_doses": 1, "emergency_called": true,
        "stayed_with_person": true, "outcome": "recovered"}}),
    );
    r.ok(
        "update_overdose",
        json!({"contactId": contact, "overdose": {"naloxone_doses": 2, "emergency_called": true,
        "stayed_with_person": true, "outcome": "survived"}}),
    );
    r.ok("client_history", json!({"clientId": client, "limit": 10}));
    r.ok("update_overdose", json!({"contactId": contact, "overdose": null}));
    // 73 hours later the contacts are locked: corrections only by a new contact.
    the_clock_moves_on(&app, outpost_core::rules::CONTACT_EDIT_WINDOW_MS + 3_600_000);
    r.ok("client_history", json!({"clientId": client, "limit": 10}));
    r.refused("update_contact", json!({"id": contact, "fields": {"note": "x"}}));
    r.refused("reverse_line", json!({"contactId": contact, "commodity": "syringe_1ml", "quantity": 1}));
    r.refused("update_overdose", json!({"contactId": contact, "overdose": null}));
    the_clock_moves_on(&app, 0);
    r.refused("update_contact", json!({"id": "00000000-0000-7000-8000-00000000dead", "fields": {"note": "x"}}));

    // Referrals, tallies, surveys, stock.
    let open = r.ok("open_referrals", json!({"client": null}));
    let referral = open[0]["id"].as_str().unwrap_or_default().to_string();
    r.refused("update_referral", json!({"id": referral, "status": "maybe"}));
    r.ok("update_referral", json!({"id": referral, "status": "attended"}));
    r.refused("update_referral", json!({"id": "00000000-0000-7000-8000-00000000dead", "status": "lost"}));
    r.ok("open_referrals", json!({"client": client}));
    // A reactive test, its person linked to care later as a follow-up.
    r.ok(
        "save_contact",
        json!({"contact": {"client": {"id": client}, "setting": "window", "occurred_at": "2025-11-24T12:00:00Z",
            "services": ["testing"], "collecting_for": 0, "items": [], "referrals": [],
            "tests": [{"test": "hcv_rapid", "result": "reactive", "linked_to_care": false}]}}),
    );
    let waiting = r.ok("open_linkages", json!({}));
    let test = waiting[0]["id"].as_str().unwrap_or_default().to_string();
    r.refused("record_linkage", json!({"id": "00000000-0000-7000-8000-00000000dead"}));
    r.ok("record_linkage", json!({"id": test}));
    r.refused("record_linkage", json!({"id": test}));
    r.ok("open_linkages", json!({}));
    r.ok("save_group_tally", json!({"tally": {"setting": "nightlife", "event_name": "Summer festival",
        "people": [{"gender": "woman", "age_band": "20_24", "count": 12}, {"gender": "man", "age_band": "25_49", "count": 0}],
        "items": [{"commodity": "condom_external", "quantity": 40}]}}));
    // The default community-monitoring survey, published by the server and pulled at sync.
    r.ok("offered_forms", json!({"kind": "survey"}));
    r.ok("offered_forms", json!({"kind": null}));
    let form = json!({"formId": "cbm_default", "version": 1});
    let with = |answers: Value, language: &str| {
        let mut args = form.clone();
        args["answers"] = answers;
        if !language.is_empty() {
            args["language"] = json!(language);
        }
        args
    };
    // A client's way through it, as the survey screen's test takes it: each answer is checked
    // by core as it is given (the follow-up shows after "no"; an over-long text breaks the form's
    // constraint), then the response is saved.
    let mut answers = json!({});
    r.ok("check_form", with(answers.clone(), "en"));
    for (question, answer) in [("q1", json!("very_well")), ("q2", json!("no")), ("q2_missing", json!(["naloxone"]))] {
        answers[question] = answer;
        r.ok("check_form", with(answers.clone(), "en"));
    }
    let mut too_long = answers.clone();
    too_long["q8"] = json!("x".repeat(1001));
    r.ok("check_form", with(too_long, "en"));
    answers["q8"] = json!("Longer opening hours");
    r.ok("check_form", with(answers.clone(), "en"));
    r.ok("save_survey", with(answers, ""));
    r.ok("check_form", with(json!({"q1": "well", "q2": "partly"}), "ru"));
    r.refused("check_form", json!({"formId": "cbm_default", "version": 9, "answers": {}, "language": "en"}));
    r.refused("save_survey", with(json!({"q1": 5}), ""));
    r.refused("save_survey", with(json!({"q2": "yes", "q2_missing": ["naloxone"]}), ""));
    r.refused("save_survey", json!({"formId": "no_such_form", "version": 1, "answers": {}}));
    let many: serde_json::Map<String, Value> = (0..201).map(|i| (format!("q{i}"), json!("yes"))).collect();
    r.refused("save_survey", with(Value::Object(many), ""));
    r.ok(
        "record_stock_movement",
        json!({"movement": {"commodity": "syringe_1ml", "quantity": 500, "kind": "received",
        "batch": "B-17", "expiry_date": "2028-02-01", "grant_code": "GF-2026"}}),
    );
    r.refused(
        "record_stock_movement",
        json!({"movement": {"commodity": "syringe_1ml", "quantity": 0, "kind": "lost"}}),
    );
    r.ok(
        "record_stock_movement",
        json!({"movement": {"commodity": "syringe_1ml", "quantity": -20, "kind": "count_correction"}}),
    );
    r.ok("stock_levels", json!({}));
    // A stock count: syringes counted at what the tablet shows (no correction), water counted.
    r.ok(
        "record_stock_count",
        json!({"counts": [{"commodity": "syringe_1ml", "counted": 480}, {"commodity": "sterile_water", "counted": 40}]}),
    );
    r.refused("record_stock_count", json!({"counts": [{"commodity": "syringe_1ml", "counted": -1}]}));
    r.refused(
        "record_stock_count",
        json!({"counts": [{"commodity": "filter", "counted": 5}, {"commodity": "filter", "counted": 6}]}),
    );
    r.ok("stock_levels", json!({}));
    r.ok("sync_now", json!({}));
    r.ok("rejected_changes", json!({}));

    // Settings and workers.
    r.refused("set_language", json!({"language": "de"}));
    r.ok("set_language", json!({"language": "uk"}));
    r.refused("set_idle_lock", json!({"minutes": 0}));
    r.ok("set_idle_lock", json!({"minutes": 10}));
    for attempts in [2, 21] {
        r.refused("set_wipe_after", json!({"attempts": attempts}));
    }
    // Refused by Tauri itself, before the command: a plain string.
    r.refused("set_wipe_after", json!({"attempts": "five"}));
    // Two wrong PINs at the default limit, then the right one: the count starts again.
    r.ok("lock", json!({}));
    r.refused("unlock", json!({"pin": "1357"}));
    r.refused("unlock", json!({"pin": "000000"}));
    r.ok("unlock", json!({"pin": "258036"}));
    r.ok("set_wipe_after", json!({"attempts": 5}));
    r.refused("switch_worker", json!({"worker": ""}));
    r.ok("switch_worker", json!({"worker": "Boris"}));
    r.ok("switch_worker", json!({"worker": "Chen"}));
    r.ok("switch_worker", json!({"worker": "Anna"}));
    r.ok("status", json!({}));

    // Locking, and wrong PINs: the tries left and the growing waits.
    r.ok("lock", json!({}));
    r.ok("status", json!({}));
    r.refused("set_wipe_after", json!({"attempts": 10}));
    r.refused(
        "save_contact",
        json!({"contact": {"client": null, "setting": "window", "services": [],
        "collecting_for": 0, "items": [], "referrals": [], "tests": []}}),
    );
    r.ok("unlock", json!({"pin": "258036"}));
    r.ok("lock", json!({}));
    r.refused("unlock", json!({"pin": "1357"}));
    r.refused("unlock", json!({"pin": "000000"}));
    r.refused("unlock", json!({"pin": "12"}));
    r.refused("unlock", json!({"pin": "258036"}));
    r.ok("status", json!({}));
    // The waits pass: the last try, then the wipe.
    the_wait_passes(&app);
    r.refused("unlock", json!({"pin": "1111"}));
    r.refused("unlock", json!({"pin": "258036"}));
    the_wait_passes(&app);
    r.refused("unlock", json!({"pin": "1111"}));
    r.ok("status", json!({}));
    drop(app);
    runtime.block_on(server.stop()).expect("stop");
    r.entries
}

#[test]
fn the_fake_backends_fixtures_are_what_the_commands_answer() {
    let fresh = serde_json::to_string_pretty(&recorded()).expect("json")
        + "
";
    outpost_tests::generated::check_current(
        std::path::Path::new(FILE),
        &fresh,
        "cargo test -p outpost-app --test backend_fixtures",
    );
}
