//! A new organisation: its sites, the default catalogue and kits. The demo organisation (two
//! sites) is created on first run unless the server is told not to; a real programme creates
//! its own (`outpost-server org create`).

use crate::backend::TxMode;
use crate::error::DbError;
use crate::records::{SERVER_DEVICE, ServerRecord, reference_state, server_record_statements};
use crate::sql::{RowExt, Statement, json};
use crate::sync::take_seqs;
use crate::{Store, params};
use outpost_core::catalogue::{default_commodities, default_kits};
use outpost_core::uic::UicScheme;
use outpost_core::{Collection, Hlc, OrgId, RecordId, SiteId};

/// Advisory lock key: instances starting together seed (or import) one at a time.
pub(crate) const SEED_LOCK: i64 = 0x6f75_7470_6f73_7402;

/// Whether the database holds an organisation, asked under the lock that serialises seeding
/// and importing between instances (so two of them never both find it empty).
pub(crate) async fn holds_an_organisation(tx: &mut crate::Tx) -> Result<bool, DbError> {
    if let Some(lock) = tx.dialect().advisory_lock(SEED_LOCK) {
        tx.run(vec![lock]).await?;
    }
    let orgs: i64 =
        tx.query(Statement::query("SELECT count(*) FROM orgs", vec![])).await?.first().map_or(Ok(0), |r| r.col(0))?;
    Ok(orgs > 0)
}

/// A new organisation's data; both backends write exactly this.
#[derive(Clone, Debug)]
pub struct DemoSeed {
    pub org_id: OrgId,
    pub org_name: String,
    pub default_language: String,
    pub uic_scheme: UicScheme,
    pub sites: Vec<(SiteId, String)>,
    /// Reference records, in the order they get sequence numbers.
    pub records: Vec<ServerRecord>,
}

fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Builds the demo organisation's data.
pub fn demo_seed(now_ms: u64) -> Result<DemoSeed, DbError> {
    organisation_seed(
        "Demo harm reduction programme",
        "en",
        UicScheme::central_asia(),
        &[("Drop-in centre", Some(1200)), ("Street outreach team", Some(800))],
        now_ms,
    )
}

/// Builds a new organisation's data: `sites` (name and people-who-inject-drugs estimate), the
/// default catalogue and kits. The caller has checked the names, language and scheme.
pub fn organisation_seed(
    name: &str,
    default_language: &str,
    uic_scheme: UicScheme,
    site_names: &[(&str, Option<i64>)],
    now_ms: u64,
) -> Result<DemoSeed, DbError> {
    let mut counter = 0u16;
    let mut stamp = || {
        counter += 1;
        Hlc::new(now_ms, counter, SERVER_DEVICE)
    };
    let mut sites = Vec::new();
    let mut records = Vec::new();
    for (site_name, pwid) in site_names {
        let site = SiteId(uuid::Uuid::now_v7());
        sites.push((site, site_name.to_string()));
        // A site's own reference record has the site's id, so its devices can name it.
        let mut fields = serde_json::json!({"name": site_name});
        if let Some(pwid) = pwid {
            fields["pwid_estimate"] = serde_json::json!(pwid);
        }
        let state = reference_state(object(fields), stamp());
        records.push(ServerRecord { collection: Collection::Sites, id: RecordId(site.0), site_id: Some(site), state });
    }
    for commodity in default_commodities() {
        let state = reference_state(object(serde_json::to_value(&commodity)?), stamp());
        records.push(ServerRecord {
            collection: Collection::Commodities,
            id: RecordId(uuid::Uuid::now_v7()),
            site_id: None,
            state,
        });
    }
    for kit in default_kits() {
        let state = reference_state(object(serde_json::to_value(&kit)?), stamp());
        records.push(ServerRecord {
            collection: Collection::KitTemplates,
            id: RecordId(uuid::Uuid::now_v7()),
            site_id: None,
            state,
        });
    }
    Ok(DemoSeed {
        org_id: OrgId(uuid::Uuid::now_v7()),
        org_name: name.to_string(),
        default_language: default_language.to_string(),
        uic_scheme,
        sites,
        records,
    })
}

impl Store {
    /// Creates the demo organisation if the database holds no organisation yet. Returns whether
    /// it did.
    pub async fn seed_demo(&self, now_ms: u64) -> Result<bool, DbError> {
        self.create_organisation(demo_seed(now_ms)?, now_ms).await
    }

    /// Creates the organisation `seed` describes if the database holds none yet (one
    /// transaction). Returns whether it did.
    pub async fn create_organisation(&self, seed: DemoSeed, now_ms: u64) -> Result<bool, DbError> {
        self.transaction(TxMode::Write, move |tx| {
            Box::pin(async move {
                if holds_an_organisation(tx).await? {
                    return Ok(false);
                }
                let mut statements = vec![Statement::exec(
                    "INSERT INTO orgs (id, name, uic_scheme, created_ms, default_language) VALUES (?, ?, ?, ?, ?)",
                    params![
                        seed.org_id,
                        seed.org_name.as_str(),
                        json(&seed.uic_scheme)?,
                        now_ms,
                        seed.default_language.as_str()
                    ],
                )];
                for (site, name) in &seed.sites {
                    statements.push(Statement::exec(
                        "INSERT INTO sites (id, org_id, name) VALUES (?, ?, ?)",
                        params![*site, seed.org_id, name.as_str()],
                    ));
                }
                tx.run(statements).await?;
                let first = take_seqs(tx, seed.records.len()).await?;
                tx.run(server_record_statements(seed.org_id, &seed.records, first, now_ms)?).await?;
                Ok(true)
            })
        })
        .await
    }
}
