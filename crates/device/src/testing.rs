//! A store enrolled for one site, for tests here and in the app (`test-support` feature).

use crate::store::DeviceStore;
use outpost_core::uic::UicScheme;
use outpost_core::wire::{EnrollResponse, SiteRef};
use outpost_core::{DeviceId, OrgId, SiteId};

/// An in-memory store enrolled for one site, and that site.
///
/// # Panics
/// When an in-memory store cannot be created, which only a broken build does.
#[allow(clippy::expect_used)]
pub fn enrolled_store() -> (DeviceStore, SiteId) {
    let mut store = DeviceStore::open_in_memory().expect("an in-memory store");
    let site = SiteId(uuid::Uuid::from_bytes([1; 16]));
    let enrolment = EnrollResponse {
        device_id: DeviceId(uuid::Uuid::from_bytes([2; 16])),
        token: "t".into(),
        org_id: OrgId::nil(),
        org_name: "Org".into(),
        sites: vec![SiteRef { id: site, name: "Site".into() }],
        uic_scheme: UicScheme::central_asia(),
        server_time_ms: 0,
    };
    store.save_enrollment("http://server", &enrolment).expect("enrolment saved");
    (store, site)
}
