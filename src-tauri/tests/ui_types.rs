//! The UI's types come from the Rust types: this test writes the TypeScript declarations of
//! every type a command takes or returns (by `ts-rs`) and the accepted values of every string
//! enumeration, and fails when `ui/src/lib/generated/backend.ts` differs from them, so a change
//! on one side fails the build of the other (the UI type-checks against this file).
//! `OUTPOST_UPDATE_GENERATED=1 cargo test -p outpost-app --test ui_types` rewrites the file.

use outpost_app::commands::{BuiltUic, SiteInfo, Status, SyncSummary, UicQuestion};
use outpost_app::error::CommandError;
use outpost_app::state::SyncState;
use outpost_app::sync::SyncProgress;
use outpost_core::records::{
    AgeBand, Commodity, CommodityCategory, CommodityQuantity, Gender, KeyGroup, KitTemplate, OverdoseOutcome,
    ReferralStatus, ReferralTarget, Service, Setting, StockKind, TestKind, TestOutcome,
};
use outpost_core::wire::OpKind;
use outpost_core::{RecordId, SiteId};
use outpost_device::queries::{
    ClientSummary, ContactSummary, ExpiringBatch, OpenLinkage, OpenReferral, OverdoseSummary, StockLevel,
};
use outpost_device::workflows::{
    ContactClient, ContactEdit, ContactInput, FormAnswersInput, MovementInput, NewClient, OverdoseInput, Quantity,
    ReferralInput, RejectedChange, SavedContact, StockCount, TallyInput, TestInput,
};
use outpost_tests::generated::{
    check_current, ts_config, ts_consts, ts_decl as decl, ts_form_decls, ts_header, ts_text_consts, ts_values as values,
};

mod list {
    include!("../src/command_list.rs");
}

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/generated/backend.ts");

/// The largest value the schema accepts for an integer field.
fn int_max(collection: outpost_core::Collection, field: &str) -> u64 {
    collection
        .fields()
        .iter()
        .find(|f| f.name == field)
        .and_then(|f| match f.kind {
            outpost_core::schema::FieldKind::Int { max, .. } => u64::try_from(max).ok(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{collection}.{field} is an integer field"))
}

fn generated() -> String {
    let cfg = ts_config();
    let mut out = ts_header("src-tauri/tests/ui_types.rs", "cargo test -p outpost-app --test ui_types");
    for d in [
        decl::<serde_json::Value>(&cfg),
        decl::<RecordId>(&cfg),
        decl::<SiteId>(&cfg),
        decl::<Gender>(&cfg),
        decl::<KeyGroup>(&cfg),
        decl::<Setting>(&cfg),
        decl::<Service>(&cfg),
        decl::<ReferralTarget>(&cfg),
        decl::<ReferralStatus>(&cfg),
        decl::<TestKind>(&cfg),
        decl::<TestOutcome>(&cfg),
        decl::<OverdoseOutcome>(&cfg),
        decl::<AgeBand>(&cfg),
        decl::<StockKind>(&cfg),
        decl::<CommodityCategory>(&cfg),
        decl::<OpKind>(&cfg),
        decl::<SyncState>(&cfg),
        decl::<CommodityQuantity>(&cfg),
        decl::<Commodity>(&cfg),
        decl::<KitTemplate>(&cfg),
        decl::<CommandError>(&cfg),
        decl::<SiteInfo>(&cfg),
        decl::<UicQuestion>(&cfg),
        decl::<Status>(&cfg),
        decl::<BuiltUic>(&cfg),
        decl::<ClientSummary>(&cfg),
        decl::<OverdoseSummary>(&cfg),
        decl::<ContactSummary>(&cfg),
        decl::<OpenReferral>(&cfg),
        decl::<OpenLinkage>(&cfg),
        decl::<outpost_core::catalogue::LevelStatus>(&cfg),
        decl::<ExpiringBatch>(&cfg),
        decl::<StockLevel>(&cfg),
        decl::<NewClient>(&cfg),
        decl::<ContactClient>(&cfg),
        decl::<Quantity>(&cfg),
        decl::<ReferralInput>(&cfg),
        decl::<TestInput>(&cfg),
        decl::<OverdoseInput>(&cfg),
        decl::<FormAnswersInput>(&cfg),
        decl::<ContactInput>(&cfg),
        decl::<SavedContact>(&cfg),
        decl::<ContactEdit>(&cfg),
        decl::<TallyInput>(&cfg),
        decl::<MovementInput>(&cfg),
        decl::<StockCount>(&cfg),
        decl::<RejectedChange>(&cfg),
        decl::<SyncSummary>(&cfg),
        decl::<SyncProgress>(&cfg),
    ]
    .into_iter()
    .chain(ts_form_decls(&cfg))
    {
        out.push_str(&d);
    }
    out.push('\n');
    for v in [
        values("GENDERS", "Gender", Gender::ALL),
        values("KEY_GROUPS", "KeyGroup", KeyGroup::ALL),
        values("SETTINGS", "Setting", Setting::ALL),
        values("SERVICES", "Service", Service::ALL),
        values("REFERRAL_TARGETS", "ReferralTarget", ReferralTarget::ALL),
        values("REFERRAL_STATUSES", "ReferralStatus", ReferralStatus::ALL),
        values("TESTS", "TestKind", TestKind::ALL),
        values("TEST_RESULTS", "TestOutcome", TestOutcome::ALL),
        values("OVERDOSE_OUTCOMES", "OverdoseOutcome", OverdoseOutcome::ALL),
        values("AGE_BANDS", "AgeBand", AgeBand::ALL),
        values("STOCK_KINDS", "StockKind", StockKind::ALL),
        values("OP_KINDS", "OpKind", &["create", "update", "delete"]),
        values("SYNC_STATES", "SyncState", &["idle", "syncing", "offline", "error"]),
        values("LANGUAGES", "string", outpost_app::commands::LANGUAGES),
        values("COMMAND_NAMES", "string", list::COMMANDS),
        values("ANSWER_PROBLEM_CODES", "string", outpost_core::forms::PROBLEM_CODES),
    ] {
        out.push_str(&v);
    }
    out.push('\n');
    use outpost_app::{commands::IDLE_LOCK_MINUTES, lock};
    out.push_str(&ts_consts(&[
        ("PIN_MIN", *lock::UNLOCK_PIN_DIGITS.start() as u64),
        ("PIN_MAX", *lock::UNLOCK_PIN_DIGITS.end() as u64),
        ("NEW_PIN_MIN", *lock::NEW_PIN_DIGITS.start() as u64),
        ("NEW_PIN_MAX", *lock::NEW_PIN_DIGITS.end() as u64),
        ("WIPE_AFTER_MIN", u64::from(*lock::MAX_ATTEMPTS_RANGE.start())),
        ("WIPE_AFTER_MAX", u64::from(*lock::MAX_ATTEMPTS_RANGE.end())),
        ("WIPE_AFTER_DEFAULT", u64::from(lock::DEFAULT_MAX_ATTEMPTS)),
        ("IDLE_LOCK_MIN_MINUTES", u64::from(*IDLE_LOCK_MINUTES.start())),
        ("IDLE_LOCK_MAX_MINUTES", u64::from(*IDLE_LOCK_MINUTES.end())),
        ("CONTACT_EDIT_WINDOW_MS", outpost_core::rules::CONTACT_EDIT_WINDOW_MS),
        ("MAX_CONTACT_ITEMS", outpost_device::workflows::MAX_CONTACT_ITEMS as u64),
        ("MAX_FORM_ANSWERS", outpost_device::forms::MAX_ANSWERS as u64),
        ("MAX_NALOXONE_DOSES", int_max(outpost_core::Collection::OverdoseReports, "naloxone_doses")),
        ("EXPIRING_WITHIN_DAYS", u64::from(outpost_core::catalogue::EXPIRING_WITHIN_DAYS)),
        ("EXPIRED_SHOWN_DAYS", u64::from(outpost_core::catalogue::EXPIRED_SHOWN_DAYS)),
    ]));
    out.push_str(&ts_text_consts(&[
        ("ENROL_LINK_PATH", outpost_core::wire::ENROL_LINK_PATH),
        ("ENROL_LINK_CODE_PARAM", outpost_core::wire::ENROL_LINK_CODE_PARAM),
    ]));
    out
}

#[test]
fn the_uis_types_are_the_rust_types() {
    check_current(std::path::Path::new(FILE), &generated(), "cargo test -p outpost-app --test ui_types");
}
