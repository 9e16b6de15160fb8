//! The dashboard's types come from the server's: this test writes the TypeScript declarations
//! of everything the dashboard API takes and returns (by `ts-rs`), with the server's limits,
//! and fails when `ui/src/dashboard/generated/api.ts` differs (the dashboard type-checks against
//! it). `OUTPOST_UPDATE_GENERATED=1 cargo test -p outpost-tests --test integration ui_types` rewrites it.

use outpost_core::SiteId;
use outpost_core::forms::FormError;
use outpost_core::records::{
    Commodity, CommodityCategory, CommodityQuantity, KeyGroup, KitTemplate, ReferralTarget, Service, Setting, TestKind,
};
use outpost_core::wire::{ErrorBody, ErrorDetail, SiteRef};
use outpost_server::http::admin::{
    AdminSite, Catalogue, CodeForm, ErasureOut, ErasureRequest, NewCodeOut, OpenCodeOut, RenameForm, SavedSite,
    TabletChanged, ThresholdForm,
};
use outpost_server::http::auth::{LoginRequest, PasswordChange, SessionInfo};
use outpost_server::http::dashboard::{AuditOut, DeviceOut, Resolve, SiteOut};
use outpost_server::http::forms::{FormCheck, PreviewRequest, Published};
use outpost_server::services::accounts::{self, Role, User};
use outpost_server::services::admin::catalogue::{CommodityEntry, KitEntry};
use outpost_server::services::admin::dhis2::client::ImportSummary;
use outpost_server::services::admin::dhis2::payload::{HeldBack, OutValue, Unmapped};
use outpost_server::services::admin::dhis2::{
    ConnectionForm, Dhis2Preview, Dhis2Settings, MappingInfo, SendOutcome, SendRequest,
};
use outpost_server::services::admin::org::{Organisation, OrganisationForm};
use outpost_server::services::admin::packages::{PackagesForm, PackagesOut};
use outpost_server::services::admin::people::{
    DismissRequest, DuplicatePair, DuplicateReason, DuplicateReview, MergeEntry, MergeRequest, ReviewRecord,
};
use outpost_server::services::admin::sites::SiteForm;
use outpost_server::services::admin::users::{TemporaryPassword, TotpSetup, UserEntry, UserForm};
use outpost_server::services::conflicts::{ConflictAction, ConflictResolution, ConflictView, RecordLabel, Side};
use outpost_server::services::reports::export::EXPORT_KINDS;
use outpost_server::services::reports::indicators::{
    Breakdown, Cell, Coverage, Indicator, IndicatorReport, MonthRow, SiteTrend, Suppression, Trends, Unit,
};
use outpost_server::services::reports::sets::ItemClass;
use outpost_server::services::reports::sets::evaluate::{
    CategoryOut, DimensionOut, SetIndicator, SetReport, Table, TableCell,
};
use outpost_server::services::reports::sets::packages::{PackageItem, Population, ServicePackage};
use outpost_server::services::reports::sets::{Cadence, IndicatorSummary, SetSummary};
use outpost_server::services::reports::stock::{ExpiringBatch, LevelPoint, Movement, Stock, StockLevel};
use outpost_server::services::reports::surveys::{
    ChoiceCount, FormResults, NumberSummary, QuestionResult, SurveyResults,
};
use outpost_tests::generated::{
    check_current, ts_config, ts_consts, ts_decl as decl, ts_enum_values, ts_form_decls, ts_header, ts_values as values,
};

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/dashboard/generated/api.ts");

fn generated() -> String {
    let cfg = ts_config();
    let mut out = ts_header("tests/integration/ui_types.rs", "cargo test -p outpost-tests --test integration ui_types");
    for d in [
        decl::<serde_json::Value>(&cfg),
        decl::<SiteId>(&cfg),
        decl::<SiteRef>(&cfg),
        decl::<ErrorDetail>(&cfg),
        decl::<ErrorBody>(&cfg),
        decl::<Role>(&cfg),
        decl::<User>(&cfg),
        decl::<SessionInfo>(&cfg),
        decl::<LoginRequest>(&cfg),
        decl::<SiteOut>(&cfg),
        decl::<Unit>(&cfg),
        decl::<Coverage>(&cfg),
        decl::<Cell>(&cfg),
        decl::<Breakdown>(&cfg),
        decl::<Indicator>(&cfg),
        decl::<Suppression>(&cfg),
        decl::<IndicatorReport>(&cfg),
        decl::<MonthRow>(&cfg),
        decl::<SiteTrend>(&cfg),
        decl::<Trends>(&cfg),
        decl::<Cadence>(&cfg),
        decl::<IndicatorSummary>(&cfg),
        decl::<SetSummary>(&cfg),
        decl::<TableCell>(&cfg),
        decl::<Table>(&cfg),
        decl::<CategoryOut>(&cfg),
        decl::<DimensionOut>(&cfg),
        decl::<SetIndicator>(&cfg),
        decl::<SetReport>(&cfg),
        decl::<Service>(&cfg),
        decl::<TestKind>(&cfg),
        decl::<ReferralTarget>(&cfg),
        decl::<ItemClass>(&cfg),
        decl::<Population>(&cfg),
        decl::<PackageItem>(&cfg),
        decl::<ServicePackage>(&cfg),
        decl::<PackagesOut>(&cfg),
        decl::<PackagesForm>(&cfg),
        decl::<MappingInfo>(&cfg),
        decl::<Dhis2Settings>(&cfg),
        decl::<ConnectionForm>(&cfg),
        decl::<OutValue>(&cfg),
        decl::<HeldBack>(&cfg),
        decl::<Unmapped>(&cfg),
        decl::<Dhis2Preview>(&cfg),
        decl::<ImportSummary>(&cfg),
        decl::<SendOutcome>(&cfg),
        decl::<SendRequest>(&cfg),
        decl::<FormError>(&cfg),
        decl::<FormCheck>(&cfg),
        decl::<Published>(&cfg),
        decl::<PreviewRequest>(&cfg),
        decl::<ChoiceCount>(&cfg),
        decl::<NumberSummary>(&cfg),
        decl::<QuestionResult>(&cfg),
        decl::<FormResults>(&cfg),
        decl::<SurveyResults>(&cfg),
        decl::<StockLevel>(&cfg),
        decl::<Movement>(&cfg),
        decl::<LevelPoint>(&cfg),
        decl::<ExpiringBatch>(&cfg),
        decl::<Stock>(&cfg),
        decl::<DeviceOut>(&cfg),
        decl::<Side>(&cfg),
        decl::<ConflictResolution>(&cfg),
        decl::<ConflictAction>(&cfg),
        decl::<RecordLabel>(&cfg),
        decl::<ConflictView>(&cfg),
        decl::<Resolve>(&cfg),
        decl::<AuditOut>(&cfg),
        decl::<KeyGroup>(&cfg),
        decl::<Setting>(&cfg),
        decl::<CommodityCategory>(&cfg),
        decl::<CommodityQuantity>(&cfg),
        decl::<Commodity>(&cfg),
        decl::<KitTemplate>(&cfg),
        decl::<AdminSite>(&cfg),
        decl::<SavedSite>(&cfg),
        decl::<SiteForm>(&cfg),
        decl::<CommodityEntry>(&cfg),
        decl::<KitEntry>(&cfg),
        decl::<Catalogue>(&cfg),
        decl::<ThresholdForm>(&cfg),
        decl::<TabletChanged>(&cfg),
        decl::<RenameForm>(&cfg),
        decl::<OpenCodeOut>(&cfg),
        decl::<CodeForm>(&cfg),
        decl::<NewCodeOut>(&cfg),
        decl::<UserEntry>(&cfg),
        decl::<UserForm>(&cfg),
        decl::<TemporaryPassword>(&cfg),
        decl::<ErasureRequest>(&cfg),
        decl::<ErasureOut>(&cfg),
        decl::<DuplicateReason>(&cfg),
        decl::<ReviewRecord>(&cfg),
        decl::<DuplicatePair>(&cfg),
        decl::<MergeEntry>(&cfg),
        decl::<DuplicateReview>(&cfg),
        decl::<MergeRequest>(&cfg),
        decl::<DismissRequest>(&cfg),
        decl::<TotpSetup>(&cfg),
        decl::<PasswordChange>(&cfg),
        decl::<outpost_core::uic::Script>(&cfg),
        decl::<outpost_core::uic::UicComponent>(&cfg),
        decl::<outpost_core::uic::UicScheme>(&cfg),
        decl::<Organisation>(&cfg),
        decl::<OrganisationForm>(&cfg),
    ]
    .into_iter()
    .chain(ts_form_decls(&cfg))
    {
        out.push_str(&d);
    }
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    out.push('\n');
    out.push_str(&values("ROLES", "Role", &roles));
    out.push_str(&values("EXPORT_KINDS", "string", EXPORT_KINDS));
    out.push_str(&ts_enum_values("UNITS", "Unit", &Unit::ALL));
    out.push_str(&ts_enum_values("COVERAGE_LEVELS", "Coverage", &Coverage::ALL));
    out.push_str(&values("KEY_GROUPS", "KeyGroup", KeyGroup::ALL));
    out.push_str(&ts_enum_values("POPULATIONS", "Population", &Population::ALL));
    out.push_str(&values("SETTINGS", "Setting", Setting::ALL));
    out.push_str(&values("COMMODITY_CATEGORIES", "CommodityCategory", CommodityCategory::ALL));
    out.push_str(&ts_consts(&[
        ("MAX_FAILED_LOGINS", outpost_server::http::limits::MAX_FAILURES as u64),
        ("FAILED_LOGIN_WINDOW_MS", outpost_server::http::limits::WINDOW.as_millis() as u64),
        ("SMALL_CELL", outpost_server::services::reports::SMALL_CELL as u64),
        ("COVERAGE_HIGH_ABOVE", outpost_server::services::reports::indicators::COVERAGE_HIGH_ABOVE as u64),
        ("DEFAULT_NSP_TARGET", u64::from(outpost_server::services::admin::org::DEFAULT_NSP_TARGET)),
        ("SESSION_IDLE_MS", accounts::SESSION_IDLE_MS),
        ("SESSION_MAX_MS", accounts::SESSION_MAX_MS),
        ("MIN_PASSWORD_CHARS", accounts::MIN_PASSWORD_CHARS as u64),
        ("MAX_PASSWORD_CHARS", accounts::MAX_PASSWORD_CHARS as u64),
        ("MAX_NAME_CHARS", outpost_core::schema::MAX_NAME_CHARS as u64),
        ("MAX_ESTIMATE", outpost_core::schema::MAX_ESTIMATE as u64),
        ("MAX_VALID_HOURS", outpost_server::services::admin::tablets::MAX_VALID_HOURS),
    ]));
    out
}

#[test]
fn the_dashboards_types_are_the_servers() {
    check_current(std::path::Path::new(FILE), &generated(), "cargo test -p outpost-tests --test integration ui_types");
}
