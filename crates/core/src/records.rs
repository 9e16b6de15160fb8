//! Typed records, as in `domain.md`.
//!
//! On the wire and in storage a record is a map of fields (so that fields a peer does not know
//! survive a round trip); these types are the typed view that screens and reports read. Every
//! string enum lists its accepted values in `ALL`, which the validation schema uses, so the two
//! cannot drift apart.

use crate::ids::{RecordId, SiteId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every accepted value, in wire form.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// Every value.
            pub const VARIANTS: &'static [Self] = &[$(Self::$variant),+];

            /// The wire form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }
    };
}

string_enum!(
    /// Gender as the client states it.
    Gender { Woman = "woman", Man = "man", TransWoman = "trans_woman", TransMan = "trans_man", NonBinary = "non_binary", NotStated = "not_stated" }
);
string_enum!(
    /// Key population groups a client belongs to.
    KeyGroup { InjectsDrugs = "injects_drugs", UsesStimulants = "uses_stimulants", SexWork = "sex_work", Msm = "msm", Nightlife = "nightlife", Pregnant = "pregnant" }
);
string_enum!(
    /// Where a contact happened.
    Setting { FixedSite = "fixed_site", Window = "window", HarmReductionRoom = "harm_reduction_room", StreetOutreach = "street_outreach", MobileVan = "mobile_van", Nightlife = "nightlife", PeerDelivered = "peer_delivered", HomeVisit = "home_visit", Online = "online" }
);
string_enum!(
    /// Services given during a contact (besides commodities, which are distribution lines).
    Service { Kit = "kit", Counselling = "counselling", Information = "information", Testing = "testing", Referral = "referral", WoundCare = "wound_care", NaloxoneTraining = "naloxone_training", DrugChecking = "drug_checking", PeerSupport = "peer_support", CaseManagement = "case_management" }
);
string_enum!(
    /// Where a referral sends the client.
    ReferralTarget { Ost = "ost", ArtHivCare = "art_hiv_care", HcvTreatment = "hcv_treatment", Tb = "tb", SrhGynaecology = "srh_gynaecology", Pmtct = "pmtct", Shelter = "shelter", LegalAid = "legal_aid", MentalHealth = "mental_health", DetoxRehab = "detox_rehab", SocialServices = "social_services" }
);
string_enum!(
    /// Where a referral stands.
    ReferralStatus { Issued = "issued", Attended = "attended", Declined = "declined", Lost = "lost" }
);
string_enum!(
    /// Rapid tests and screenings.
    TestKind { HivRapid = "hiv_rapid", HcvRapid = "hcv_rapid", Syphilis = "syphilis", TbScreening = "tb_screening", Pregnancy = "pregnancy" }
);
string_enum!(
    /// A test's result.
    TestOutcome { NonReactive = "non_reactive", Reactive = "reactive", Invalid = "invalid" }
);
string_enum!(
    /// How an overdose ended, as far as the worker knows.
    OverdoseOutcome { Survived = "survived", Died = "died", Unknown = "unknown" }
);
string_enum!(
    /// Age bands used by tallies and reports.
    AgeBand { Under15 = "under_15", From15To19 = "15_19", From20To24 = "20_24", From25To49 = "25_49", From50 = "50_plus", NotStated = "not_stated" }
);
string_enum!(
    /// Kinds of stock movement. Distributions count as outflow by themselves.
    StockKind { Received = "received", TransferIn = "transfer_in", TransferOut = "transfer_out", ExpiredDamaged = "expired_damaged", Lost = "lost", CountCorrection = "count_correction" }
);
string_enum!(
    /// Commodity categories in the catalogue.
    CommodityCategory { Injecting = "injecting", Smoking = "smoking", Sniffing = "sniffing", Sex = "sex", Naloxone = "naloxone", Testing = "testing", Women = "women", Nightlife = "nightlife", Other = "other" }
);

/// A client, known only by their code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub uic: String,
    pub gender: Gender,
    pub birth_year: Option<u16>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub key_groups: Vec<KeyGroup>,
    pub first_seen_site: Option<SiteId>,
    pub first_seen_at: Option<String>,
    pub merged_into: Option<RecordId>,
}

/// Which way a stock movement moves stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockDirection {
    /// Adds its quantity (received, transferred in).
    In,
    /// Takes its quantity away (transferred out, expired or damaged, lost).
    Out,
    /// Carries its own sign (a count correction: the counted level minus the recorded one).
    Signed,
}

impl StockKind {
    /// The direction of this kind, the one rule the tablet's levels and the dashboard's stock
    /// both follow. Distributions are outflow by themselves and are not movements.
    pub fn direction(self) -> StockDirection {
        match self {
            StockKind::Received | StockKind::TransferIn => StockDirection::In,
            StockKind::TransferOut | StockKind::ExpiredDamaged | StockKind::Lost => StockDirection::Out,
            StockKind::CountCorrection => StockDirection::Signed,
        }
    }

    /// The movement's effect on the level: +quantity, -quantity, or quantity as signed.
    pub fn signed(self, quantity: i64) -> i64 {
        match self.direction() {
            StockDirection::In | StockDirection::Signed => quantity,
            StockDirection::Out => -quantity,
        }
    }
}

/// [`StockKind::direction`] as an SQL expression over the text expression `kind`: 1 or -1 (0 for
/// a kind the rule does not know), for stores that sum movements in SQL (the tablet's and the
/// server's give the same levels). Only the kinds' constant names are written into the text.
pub fn stock_sign_sql(kind: &str) -> String {
    let list = |direction: StockDirection| {
        let kinds: Vec<String> = StockKind::VARIANTS
            .iter()
            .filter(|k| k.direction() == direction)
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        if kinds.is_empty() { "NULL".to_string() } else { kinds.join(", ") }
    };
    format!(
        "(CASE WHEN {kind} IN ({up}, {signed}) THEN 1 WHEN {kind} IN ({down}) THEN -1 ELSE 0 END)",
        up = list(StockDirection::In),
        signed = list(StockDirection::Signed),
        down = list(StockDirection::Out),
    )
}

/// One contact (encounter): a visit at the window, an outreach meeting, an online session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub client_id: Option<RecordId>,
    pub worker_id: Option<RecordId>,
    pub setting: Setting,
    pub occurred_at: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub services: Vec<Service>,
    /// Secondary distribution: how many other people the client collects for.
    #[serde(default, deserialize_with = "null_as_default")]
    pub collecting_for: u32,
    pub note: Option<String>,
    /// Answers to the programme's contact questions (forms of kind `contact_questions`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "null_as_default")]
    pub form_answers: BTreeMap<String, FormAnswers>,
}

/// The answers to one version of a form, as a record carries them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormAnswers {
    pub version: u32,
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// One commodity given in a contact, or a reversal of an earlier line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DistributionLine {
    pub contact_id: RecordId,
    pub commodity: String,
    pub quantity: u32,
    pub reverses: Option<RecordId>,
}

/// Used syringes brought back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharpsReturn {
    pub contact_id: RecordId,
    pub count: u32,
}

/// A referral to another service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    pub contact_id: RecordId,
    pub client_id: Option<RecordId>,
    pub target: ReferralTarget,
    pub status: ReferralStatus,
    pub status_at: String,
}

/// A rapid test done in a contact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub contact_id: RecordId,
    pub client_id: Option<RecordId>,
    pub test: TestKind,
    pub result: TestOutcome,
    #[serde(default, deserialize_with = "null_as_default")]
    pub linked_to_care: bool,
    /// When the person was linked to care (RFC 3339): at the test, or later, recorded as a
    /// follow-up like a referral's outcome; reports count the linkage in that period.
    #[serde(default, deserialize_with = "null_as_default")]
    pub linked_at: Option<String>,
}

impl TestOutcome {
    /// Whether a test with this result waits for the person's linkage to care (treatment,
    /// confirmation, antenatal care): a reactive one, of any kind.
    pub fn awaits_linkage(self) -> bool {
        self == TestOutcome::Reactive
    }
}

/// An overdose the worker responded to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverdoseReport {
    pub contact_id: RecordId,
    pub naloxone_doses: u32,
    pub emergency_called: bool,
    pub stayed_with_person: bool,
    pub outcome: OverdoseOutcome,
}

/// A count of people in one gender and age band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TallyCell {
    pub gender: Gender,
    pub age_band: AgeBand,
    pub count: u32,
}

/// A quantity of one commodity.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommodityQuantity {
    pub commodity: String,
    pub quantity: u32,
}

/// Anonymous counts for festivals and stands: no client codes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupTally {
    pub setting: Setting,
    pub event_name: Option<String>,
    pub occurred_at: String,
    pub people: Vec<TallyCell>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<CommodityQuantity>,
}

/// Stock coming into or leaving a site or an outreach bag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StockMovement {
    pub commodity: String,
    /// Positive, except a count correction which may be negative.
    pub quantity: i64,
    pub kind: StockKind,
    pub bag: Option<String>,
    pub grant_code: Option<String>,
    pub batch: Option<String>,
    pub expiry_date: Option<String>,
    pub occurred_at: String,
}

/// An anonymous survey response, never linked to a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurveyResponse {
    pub survey_id: String,
    pub survey_version: u32,
    pub occurred_at: String,
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// Whether a published form is still offered to workers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormStatus {
    Published,
    /// No longer offered for new responses; responses to it are still accepted and reported.
    Retired,
}

impl FormStatus {
    pub const ALL: &'static [&'static str] = &["published", "retired"];
}

/// One published version of a programme's form (reference data: the server writes it, tablets
/// receive it by pull). A new version is a new record; a version never changes but its status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedForm {
    /// The form's id (a code); survey responses name it as `survey_id`.
    pub form_id: String,
    /// 1, 2, 3... per form id, given by the server; responses name it as `survey_version`.
    pub version: u32,
    pub definition: crate::forms::Form,
    pub status: FormStatus,
    pub published_at: String,
    /// The `version` of the XLSForm's settings sheet, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
}

/// Two client records found to be the same person: history of `from` belongs to `into`. A
/// coordinator makes it in the dashboard (tablets never write one); undoing it is a second
/// merge record naming the first in `undoes` (with the same two clients), since merges are
/// append-only. How merges make people of client records: the `people` module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientMerge {
    pub from_client: RecordId,
    pub into_client: RecordId,
    /// The merge this record takes back.
    #[serde(default, deserialize_with = "null_as_default")]
    pub undoes: Option<RecordId>,
}

/// A site, authored on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Site {
    pub name: String,
    /// Estimated people who inject drugs in the site's area (for coverage indicators).
    #[serde(default, deserialize_with = "null_as_default")]
    pub pwid_estimate: Option<u32>,
    /// Estimated size of the site's other key populations (the denominators of their coverage
    /// indicators), by key group; people who inject drugs are `pwid_estimate`.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub population_estimates: BTreeMap<KeyGroup, u32>,
    /// A retired site takes no new tablets or staff; its records stay in every report.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

/// A commodity catalogue entry, authored on the server.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commodity {
    pub code: String,
    /// The name in the organisation's default language (and whenever `names` lacks one).
    pub name: String,
    /// The name in other languages, by language code (`ru`, `uk`...).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    pub category: CommodityCategory,
    pub unit: String,
    pub units_per_pack: u32,
    pub counts_as_needle_syringe: bool,
    /// Below this many a site's stock is low, unless `site_thresholds` names the site.
    #[serde(default, deserialize_with = "null_as_default")]
    pub low_stock_threshold: Option<u32>,
    /// The low-stock threshold of particular sites, by site id.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub site_thresholds: BTreeMap<String, u32>,
    /// Where it comes in lists: lower first (then by name).
    #[serde(default, deserialize_with = "null_as_default")]
    pub order: u32,
    /// No longer handed out: hidden from new entries, still shown in history and reports.
    #[serde(default, deserialize_with = "null_as_default")]
    pub retired: bool,
}

/// A kit template: the usual set of commodities handed out together.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KitTemplate {
    pub code: String,
    pub name: String,
    /// The name in other languages, by language code.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    pub items: Vec<CommodityQuantity>,
    /// The key populations it is meant for (none: everyone).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub key_groups: Vec<KeyGroup>,
    /// The settings it is meant for (none: every setting).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<Setting>,
    /// Where it comes in lists: lower first (then by name).
    #[serde(default, deserialize_with = "null_as_default")]
    pub order: u32,
    /// No longer offered for new contacts.
    #[serde(default, deserialize_with = "null_as_default")]
    pub retired: bool,
}

/// Optional fields with a default accept `null` too: validation lets a change clear them.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cleared_optional_field_reads_as_its_default() {
        // Found by the fuzzer: validation accepts null for optional fields, typed reads refused it.
        let client: Client =
            serde_json::from_value(serde_json::json!({"uic": "MAIV287", "gender": "woman", "key_groups": null}))
                .expect("null reads as empty");
        assert!(client.key_groups.is_empty());
    }

    #[test]
    fn every_stock_kind_has_a_direction_and_the_sql_follows_it() {
        assert_eq!(StockKind::VARIANTS.len(), StockKind::ALL.len());
        assert_eq!(StockKind::Received.signed(5), 5);
        assert_eq!(StockKind::Lost.signed(5), -5);
        assert_eq!(StockKind::CountCorrection.signed(-3), -3, "a correction carries its own sign");
        let sql = stock_sign_sql("k");
        for kind in StockKind::VARIANTS {
            assert!(sql.contains(&format!("'{}'", kind.as_str())), "{kind:?} is missing from {sql}");
        }
        assert_eq!(
            sql,
            "(CASE WHEN k IN ('received', 'transfer_in', 'count_correction') THEN 1 \
             WHEN k IN ('transfer_out', 'expired_damaged', 'lost') THEN -1 ELSE 0 END)"
        );
    }
}
