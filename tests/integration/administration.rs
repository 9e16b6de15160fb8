//! Running a programme from the dashboard (issue 16): sites, catalogue, kits, thresholds,
//! tablets and enrolment codes over the real HTTP API on both backends; every change refused
//! for bad input or the wrong role leaves everything as it was, every accepted one is audited
//! with before → after and reaches tablets at their next pull.

use outpost_core::Collection;
use outpost_server::services::accounts::Role;
use outpost_server::settings::Settings;
use outpost_tests::{Backend, SITE_A, SITE_B, SimDevice, TestServer, WebClient};
use serde_json::{Value, json};

type Result = anyhow::Result<()>;

const ADMIN: &str = "/api/v1/dashboard/admin";

/// The text a QR code of the server's SVG holds: the picture's dark squares (the `M x y h w v h`
/// path the `qrcode` crate draws) become a bitmap that `rqrr` decodes.
pub fn decode_qr_svg(svg: &str) -> anyhow::Result<String> {
    let number = |attr: &str| -> anyhow::Result<usize> {
        let start = svg.find(&format!(" {attr}=\"")).ok_or_else(|| anyhow::anyhow!("no {attr} in the SVG"))?;
        let rest = &svg[start + attr.len() + 3..];
        Ok(rest[..rest.find('"').unwrap_or(0)].parse()?)
    };
    let (width, height) = (number("width")?, number("height")?);
    let mut dark = vec![false; width * height];
    let path = svg.split(" d=\"").nth(1).ok_or_else(|| anyhow::anyhow!("no path in the SVG"))?;
    for rect in path.split('M').skip(1) {
        // "x yhWvHHxVy"
        let nums: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .take(4)
            .map(str::parse)
            .collect::<std::result::Result<_, _>>()?;
        let [x, y, w, h] = nums[..] else { anyhow::bail!("unreadable rectangle {rect:?}") };
        for row in y..(y + h).min(height) {
            for col in x..(x + w).min(width) {
                dark[row * width + col] = true;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| if dark[y * width + x] { 0 } else { 255 });
    let grids = image.detect_grids();
    let grid = grids.first().ok_or_else(|| anyhow::anyhow!("no QR code found in the picture"))?;
    let (_, text) = grid.decode().map_err(|e| anyhow::anyhow!("the QR code does not decode: {e:?}"))?;
    Ok(text)
}

async fn expect(client: &WebClient, path: &str, body: Value, status: u16, code: &str) -> anyhow::Result<Value> {
    let (got, answer) = client.post(path, &body).await?;
    anyhow::ensure!(
        got == status && answer["code"] == code,
        "POST {path} {body}: wanted {status} {code}, got {got} {answer}"
    );
    Ok(answer)
}

async fn ok(client: &WebClient, path: &str, body: Value) -> anyhow::Result<Value> {
    let (status, answer) = client.post(path, &body).await?;
    anyhow::ensure!(status == 200, "POST {path} {body}: {status} {answer}");
    Ok(answer)
}

fn commodity(code: &str, name: &str) -> Value {
    json!({"code": code, "name": name, "category": "injecting", "unit": "piece", "units_per_pack": 100,
           "counts_as_needle_syringe": true, "low_stock_threshold": 50, "order": 5})
}

async fn a_programme_is_set_up_in_the_browser_and_reaches_its_tablets(backend: Backend) -> Result {
    let settings = Settings { public_url: Some("https://outpost.example.org".into()), ..Settings::default() };
    let server = TestServer::start_on(backend, settings).await?;
    let tablet = SimDevice::enroll(&server, SITE_A).await?;
    tablet.sync().await?;
    let admin = WebClient::logged_in(&server, "admin", Role::Admin, &[]).await?;
    let coord = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    let site_a = tablet.site_id();
    let site_b = server.site_id(SITE_B).await?;
    let audit_before = server.storage.audit_log().await?.len();

    // Sites: bad names and estimates are refused with the field named, nothing added.
    let long = "x".repeat(10_000);
    expect(&admin, &format!("{ADMIN}/sites"), json!({"name": "  "}), 422, "invalid_field").await?;
    expect(&admin, &format!("{ADMIN}/sites"), json!({"name": long}), 422, "invalid_field").await?;
    expect(&admin, &format!("{ADMIN}/sites"), json!({"name": "Bus", "pwid_estimate": -5}), 422, "invalid_body").await?;
    let absurd = json!({"name": "Bus", "pwid_estimate": 20_000_000});
    let refused = expect(&admin, &format!("{ADMIN}/sites"), absurd, 422, "invalid_field").await?;
    assert_eq!(refused["details"][0]["field"], "pwid_estimate");
    let pwid_group = json!({"name": "Bus", "population_estimates": {"injects_drugs": 5}});
    expect(&admin, &format!("{ADMIN}/sites"), pwid_group, 422, "invalid_field").await?;
    expect(&admin, &format!("{ADMIN}/sites"), json!({"name": SITE_A.to_lowercase()}), 409, "clash").await?;
    expect(&coord, &format!("{ADMIN}/sites"), json!({"name": "Bus"}), 403, "forbidden").await?;
    assert_eq!(server.storage.list_sites().await?.len(), 2, "nothing refused was added");
    let bus = ok(
        &admin,
        &format!("{ADMIN}/sites"),
        json!({"name": "Night bus", "pwid_estimate": 300,
        "population_estimates": {"sex_work": 120}}),
    )
    .await?;
    let bus_id = bus["id"].as_str().unwrap_or_default().to_string();

    // A coordinator sets their own site's estimates, but may not rename it, promote it to
    // retired, or touch another site.
    let own = json!({"name": SITE_A, "pwid_estimate": 950, "population_estimates": {"msm": 40}});
    ok(&coord, &format!("{ADMIN}/sites/{site_a}"), own).await?;
    expect(&coord, &format!("{ADMIN}/sites/{site_a}"), json!({"name": "Renamed"}), 403, "forbidden").await?;
    expect(&coord, &format!("{ADMIN}/sites/{site_b}"), json!({"name": SITE_B}), 403, "forbidden").await?;
    let sites = coord.get_json(&format!("{ADMIN}/sites")).await?;
    assert_eq!(sites.as_array().map(Vec::len), Some(1), "a coordinator lists only their sites");
    assert_eq!(sites[0]["pwid_estimate"], 950);
    assert_eq!(sites[0]["population_estimates"]["msm"], 40);

    // Catalogue: a new commodity with a Russian name, duplicates refused, the code immutable.
    let mut syringe = commodity("syringe_05ml", "Syringe 0.5 ml");
    syringe["names"] = json!({"ru": "Шприц 0,5 мл"});
    let added = ok(&admin, &format!("{ADMIN}/commodities"), syringe.clone()).await?;
    let id = added["id"].as_str().unwrap_or_default().to_string();
    expect(&admin, &format!("{ADMIN}/commodities"), syringe.clone(), 409, "clash").await?;
    expect(&admin, &format!("{ADMIN}/commodities"), commodity("other_code", "Needle"), 409, "clash").await?;
    expect(&admin, &format!("{ADMIN}/commodities"), commodity("Bad Code", "Thing"), 422, "invalid_field").await?;
    let mut bad_language = commodity("thing", "Thing");
    bad_language["names"] = json!({"russian": "Вещь"});
    expect(&admin, &format!("{ADMIN}/commodities"), bad_language, 422, "invalid_field").await?;
    expect(&coord, &format!("{ADMIN}/commodities"), commodity("thing", "Thing"), 403, "forbidden").await?;
    let mut recoded = syringe.clone();
    recoded["code"] = json!("syringe_half");
    let immutable = expect(&admin, &format!("{ADMIN}/commodities/{id}"), recoded, 422, "invalid_field").await?;
    assert_eq!(immutable["details"][0]["code"], "immutable");
    syringe["name"] = json!("Insulin syringe 0.5 ml");
    syringe["order"] = json!(1);
    ok(&admin, &format!("{ADMIN}/commodities/{id}"), syringe.clone()).await?;

    // A site's own threshold: the coordinator for their site only.
    let threshold = json!({"site": site_a.to_string(), "threshold": 400});
    ok(&coord, &format!("{ADMIN}/commodities/{id}/threshold"), threshold).await?;
    let elsewhere = json!({"site": site_b.to_string(), "threshold": 1});
    expect(&coord, &format!("{ADMIN}/commodities/{id}/threshold"), elsewhere, 403, "forbidden").await?;
    let absurd = json!({"site": site_a.to_string(), "threshold": 50_000_000});
    expect(&coord, &format!("{ADMIN}/commodities/{id}/threshold"), absurd, 422, "invalid_field").await?;
    let negative = json!({"site": site_a.to_string(), "threshold": -1});
    expect(&coord, &format!("{ADMIN}/commodities/{id}/threshold"), negative, 422, "invalid_body").await?;

    // Kits: unknown, duplicate and retired items refused; a new one accepted.
    let kit =
        |items: Value| json!({"code": "festival", "name": "Festival kit", "items": items, "settings": ["nightlife"]});
    let unknown = expect(
        &admin,
        &format!("{ADMIN}/kits"),
        kit(json!([{"commodity": "caviar", "quantity": 1}])),
        422,
        "invalid_field",
    )
    .await?;
    assert_eq!(unknown["details"][0]["code"], "unknown_commodity");
    let twice = json!([{"commodity": "earplugs", "quantity": 1}, {"commodity": "earplugs", "quantity": 2}]);
    expect(&admin, &format!("{ADMIN}/kits"), kit(twice), 422, "invalid_field").await?;
    expect(&admin, &format!("{ADMIN}/kits"), kit(json!([])), 422, "invalid_field").await?;
    let catalogue = admin.get_json(&format!("{ADMIN}/catalogue")).await?;
    let leaflet = catalogue["commodities"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["commodity"]["code"] == "leaflet"))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no leaflet"))?;
    let mut retired = leaflet["commodity"].clone();
    retired["retired"] = json!(true);
    ok(&admin, &format!("{ADMIN}/commodities/{}", leaflet["id"].as_str().unwrap_or_default()), retired).await?;
    let with_retired = kit(json!([{"commodity": "leaflet", "quantity": 1}]));
    let answer = expect(&admin, &format!("{ADMIN}/kits"), with_retired, 422, "invalid_field").await?;
    assert_eq!(answer["details"][0]["code"], "retired_commodity");
    let festival = kit(json!([{"commodity": "earplugs", "quantity": 2}, {"commodity": "syringe_05ml", "quantity": 5}]));
    ok(&admin, &format!("{ADMIN}/kits"), festival).await?;

    // The tablet's next pull brings all of it: the new name first in order, the site's own
    // threshold, the leaflet retired (kept for history), the new kit.
    tablet.sync().await?;
    let items = tablet.with(|s| s.commodities())?;
    assert_eq!(items[0].code, "syringe_05ml", "display order: the lowest first");
    assert_eq!(items[0].name, "Insulin syringe 0.5 ml");
    assert_eq!(items[0].names.get("ru").map(String::as_str), Some("Шприц 0,5 мл"));
    assert_eq!(items[0].low_stock_threshold, Some(400), "this site's own threshold");
    assert!(items.iter().any(|c| c.code == "leaflet" && c.retired), "a retired item stays, flagged");
    let kits = tablet.with(|s| s.kit_templates())?;
    assert!(kits.iter().any(|k| k.code == "festival" && k.items.len() == 2));
    let sites = tablet.with(|s| s.list(Collection::Sites))?;
    assert_eq!(sites[0].1.values()["pwid_estimate"], 950, "the estimate reached the tablet");

    // Enrolment: a code with its link on a QR card; the QR decodes to the link; a cancelled code
    // enrols nothing; a retired site takes no code.
    let created =
        ok(&coord, &format!("{ADMIN}/enrolment-codes"), json!({"site": site_a.to_string(), "valid_hours": 24})).await?;
    let code = created["code"].as_str().unwrap_or_default().to_string();
    assert_eq!(created["link"], format!("https://outpost.example.org/enrol?code={code}"));
    assert_eq!(
        decode_qr_svg(created["qr_svg"].as_str().unwrap_or_default())?,
        created["link"].as_str().unwrap_or_default()
    );
    // The link opened in a phone's browser (a scanned card) says what it is for, and nothing more.
    let page = reqwest::get(format!("{}/enrol?code={code}", server.url())).await?;
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = page.text().await?;
    assert!(html.contains("Outpost tablet enrolment") && !html.contains(&code), "the code is not echoed");
    let hours = json!({"site": site_a.to_string(), "valid_hours": 10_000});
    expect(&coord, &format!("{ADMIN}/enrolment-codes"), hours, 422, "invalid_field").await?;
    let b_code = json!({"site": site_b.to_string(), "valid_hours": 1});
    expect(&coord, &format!("{ADMIN}/enrolment-codes"), b_code, 403, "forbidden").await?;
    let open = coord.get_json(&format!("{ADMIN}/enrolment-codes")).await?;
    let code_id = open[0]["id"].as_str().unwrap_or_default().to_string();
    assert!(!code.contains(&code_id) && open.as_array().map(Vec::len) == Some(1));
    ok(&coord, &format!("{ADMIN}/enrolment-codes/{code_id}/cancel"), json!({})).await?;
    expect(&coord, &format!("{ADMIN}/enrolment-codes/{code_id}/cancel"), json!({}), 404, "not_found").await?;
    assert!(SimDevice::enroll_with_code(&server.url(), &code).await.is_err(), "a cancelled code enrols nothing");
    ok(&admin, &format!("{ADMIN}/sites/{bus_id}"), json!({"name": "Night bus", "retired": true})).await?;
    let retired_site = json!({"site": bus_id, "valid_hours": 1});
    expect(&admin, &format!("{ADMIN}/enrolment-codes"), retired_site, 409, "clash").await?;

    // Tablets: renamed, then revoked from the dashboard; its next sync is refused.
    let device_id = tablet.with(|s| s.identity().map(|i| i.device_id)).ok_or_else(|| anyhow::anyhow!("no id"))?;
    expect(&coord, &format!("{ADMIN}/devices/{device_id}/rename"), json!({"name": ""}), 422, "invalid_field").await?;
    ok(&coord, &format!("{ADMIN}/devices/{device_id}/rename"), json!({"name": "Window tablet"})).await?;
    let coord_b = WebClient::logged_in(&server, "coordb", Role::Coordinator, &[SITE_B]).await?;
    expect(&coord_b, &format!("{ADMIN}/devices/{device_id}/revoke"), json!({}), 403, "forbidden").await?;
    ok(&coord, &format!("{ADMIN}/devices/{device_id}/revoke"), json!({})).await?;
    match tablet.client.sync(&tablet.store, &outpost_tests::fast_retries(), &mut |_| {}).await {
        Err(outpost_device::SyncError::Unauthorized { code, .. }) => assert_eq!(code, "device_revoked"),
        other => anyhow::bail!("a revoked tablet synced: {other:?}"),
    }

    // Every accepted change is in the chained audit log, by whom, with before → after.
    let log = server.storage.audit_log().await?;
    let new: Vec<_> = log[audit_before..].iter().collect();
    let find = |action: &str| new.iter().find(|e| e.action == action).copied();
    let change = find("site.change").ok_or_else(|| anyhow::anyhow!("no site.change"))?;
    assert_eq!(change.actor, "user:coord");
    assert!(change.detail.contains("pwid_estimate:") && change.detail.contains("→ 950"), "{}", change.detail);
    let renamed = find("commodity.change").ok_or_else(|| anyhow::anyhow!("no commodity.change"))?;
    assert!(renamed.detail.contains("\"Syringe 0.5 ml\" → \"Insulin syringe 0.5 ml\""), "{}", renamed.detail);
    for action in [
        "site.add",
        "commodity.add",
        "commodity.threshold",
        "kit.add",
        "enrollment_code.create",
        "enrollment_code.cancel",
        "device.rename",
        "device.revoke",
    ] {
        assert!(find(action).is_some(), "{action} is not audited");
    }
    assert_eq!(new.iter().filter(|e| e.action == "commodity.add").count(), 1, "refused changes are not audited");
    assert!(outpost_server_store::audit::verify_audit_chain(&log, server.storage.key()).is_ok());
    server.stop().await
}

async fn staff_accounts_are_managed_in_the_browser(backend: Backend) -> Result {
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let admin = WebClient::logged_in(&server, "admin", Role::Admin, &[]).await?;
    let site_a = server.site_id(SITE_A).await?.to_string();
    let site_b = server.site_id(SITE_B).await?.to_string();
    let users = format!("{ADMIN}/users");

    // Bad input is refused and adds nobody.
    let form = |name: &str, role: &str, sites: Value| json!({"username": name, "role": role, "sites": sites});
    expect(&admin, &users, form("A", "coordinator", json!([site_a])), 422, "invalid_field").await?;
    expect(&admin, &users, form("nadia", "chief", json!([site_a])), 422, "invalid_body").await?;
    expect(&admin, &users, form("nadia", "coordinator", json!([])), 422, "invalid_field").await?;
    expect(&admin, &users, form("nadia", "coordinator", json!(["not-a-site"])), 422, "invalid_field").await?;
    expect(&admin, &users, form("admin", "coordinator", json!([site_a])), 409, "clash").await?;
    assert_eq!(admin.get_json(&users).await?.as_array().map(Vec::len), Some(1));

    // A coordinator added with a temporary password must choose their own before anything else.
    let added = ok(&admin, &users, form("Nadia", "coordinator", json!([site_a]))).await?;
    let temporary = added["password"].as_str().unwrap_or_default().to_string();
    assert_eq!(added["username"], "nadia");
    let mut nadia = WebClient::new(&server.url());
    let (status, me) = nadia.login("nadia", &temporary, None).await?;
    assert_eq!((status, me["user"]["password_temporary"].clone()), (200, json!(true)));
    let (status, body) = nadia.get("/api/v1/dashboard/sites").await?;
    assert!(status == 403 && body.contains("password_change_required"), "{status} {body}");
    let change = |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    expect(&nadia, "/api/v1/auth/password", change("wrong-wrong-wrong", "river-owl-garden-41"), 403, "wrong_password")
        .await?;
    expect(&nadia, "/api/v1/auth/password", change(&temporary, "short"), 422, "invalid_field").await?;
    let (status, _) = nadia.post("/api/v1/auth/password", &change(&temporary, "river-owl-garden-41")).await?;
    assert_eq!(status, 204);
    assert_eq!(nadia.get("/api/v1/dashboard/sites").await?.0, 401, "every session ended with the change");
    let (status, me) = nadia.login("nadia", "river-owl-garden-41", None).await?;
    assert_eq!((status, me["user"]["password_temporary"].clone()), (200, json!(false)));
    assert_eq!(nadia.get("/api/v1/dashboard/sites").await?.0, 200);
    // Nadia is not an admin: accounts are not hers to change.
    expect(&nadia, &users, form("omar", "outreach_worker", json!([site_a])), 403, "forbidden").await?;
    let promoted = form("nadia", "admin", json!([site_a]));
    expect(&nadia, &format!("{users}/nadia"), promoted, 403, "forbidden").await?;
    assert_eq!(server.storage.find_user("nadia").await?.map(|u| u.role), Some("coordinator".into()), "not promoted");

    // Role, sites and status; an admin cannot lock themselves out.
    let changed = ok(&admin, &format!("{users}/nadia"), form("nadia", "coordinator", json!([site_a, site_b]))).await?;
    assert_eq!(changed["sites"].as_array().map(Vec::len), Some(2));
    expect(
        &admin,
        &format!("{users}/admin"),
        json!({"username": "admin", "role": "admin", "disabled": true}),
        403,
        "forbidden",
    )
    .await?;
    expect(&admin, &format!("{users}/admin"), form("admin", "coordinator", json!([site_a])), 403, "forbidden").await?;
    expect(&admin, &format!("{users}/nadia"), form("omar", "coordinator", json!([site_a])), 422, "invalid_field")
        .await?;
    let disabled = json!({"username": "nadia", "role": "coordinator", "sites": [site_a], "disabled": true});
    ok(&admin, &format!("{users}/nadia"), disabled).await?;
    assert_eq!(nadia.get("/api/v1/dashboard/sites").await?.0, 401, "disabling ends the sessions");
    assert_eq!(WebClient::new(&server.url()).login("nadia", "river-owl-garden-41", None).await?.0, 401);
    ok(&admin, &format!("{users}/nadia"), form("nadia", "coordinator", json!([site_a]))).await?;

    // A reset gives a new temporary password; the old one stops working.
    let reset = ok(&admin, &format!("{users}/nadia/password"), json!({})).await?;
    let new_temporary = reset["password"].as_str().unwrap_or_default();
    assert_eq!(WebClient::new(&server.url()).login("nadia", "river-owl-garden-41", None).await?.0, 401);
    let mut again = WebClient::new(&server.url());
    assert_eq!(again.login("nadia", new_temporary, None).await?.0, 200);

    // The second factor: the QR code holds the authenticator link; removing it works too.
    let totp = ok(&admin, &format!("{users}/nadia/totp"), json!({})).await?;
    let link = totp["link"].as_str().unwrap_or_default();
    assert!(link.starts_with("otpauth://totp/Outpost:nadia?secret="), "{link}");
    assert_eq!(decode_qr_svg(totp["qr_svg"].as_str().unwrap_or_default())?, link);
    let (status, body) = WebClient::new(&server.url()).login("nadia", new_temporary, None).await?;
    assert_eq!((status, body["code"].clone()), (401, json!("totp_required")));
    ok(&admin, &format!("{users}/nadia/totp/remove"), json!({})).await?;
    assert_eq!(WebClient::new(&server.url()).login("nadia", new_temporary, None).await?.0, 200);
    expect(&admin, &format!("{users}/nobody/password"), json!({}), 404, "not_found").await?;

    let listed = admin.get_json(&users).await?;
    let row = listed.as_array().and_then(|l| l.iter().find(|u| u["username"] == "nadia")).cloned().unwrap_or_default();
    assert!(row["last_login_ms"].as_i64().is_some(), "the last login is shown: {row}");
    assert_eq!(row["password_temporary"], true);
    let log = server.storage.audit_log().await?;
    for action in ["user.add", "user.change", "user.password", "user.totp", "user.totp.remove"] {
        assert!(log.iter().any(|e| e.action == action && e.actor == "user:admin"), "{action} is not audited");
    }
    assert!(log.iter().any(|e| e.action == "user.password" && e.actor == "user:nadia"), "her own change is audited");
    for entry in &log {
        assert!(!entry.detail.contains(&temporary) && !entry.detail.contains(new_temporary), "a password in the log");
    }
    server.stop().await
}

async fn the_organisation_is_named_and_its_scheme_chosen_before_it_has_clients(backend: Backend) -> Result {
    use outpost_core::uic::UicScheme;
    let server = TestServer::start_on(backend, Settings::default()).await?;
    let tablet = SimDevice::enroll(&server, SITE_A).await?;
    let admin = WebClient::logged_in(&server, "admin", Role::Admin, &[]).await?;
    let coord = WebClient::logged_in(&server, "coord", Role::Coordinator, &[SITE_A]).await?;
    let path = format!("{ADMIN}/organisation");
    let org = admin.get_json(&path).await?;
    assert_eq!(
        (org["uic_scheme"]["name"].clone(), org["scheme_changeable"].clone()),
        (json!("central_asia"), json!(true))
    );
    assert_eq!(org["built_in_schemes"].as_array().map(Vec::len), Some(3));

    let form = |name: &str, language: &str, scheme: &UicScheme| json!({"name": name, "default_language": language, "uic_scheme": scheme});
    let surname = UicScheme::surname_day_year();
    expect(&admin, &path, form(" ", "ru", &surname), 422, "invalid_field").await?;
    expect(&admin, &path, form("Shelter", "russian", &surname), 422, "invalid_field").await?;
    let mut broken = surname.clone();
    broken.components.clear();
    let refused = expect(&admin, &path, form("Shelter", "ru", &broken), 422, "invalid_field").await?;
    assert_eq!(refused["details"][0]["code"], "invalid_scheme");
    expect(&coord, &path, form("Shelter", "ru", &surname), 403, "forbidden").await?;
    assert_eq!(server.storage.org_settings().await?.name, "Demo harm reduction programme", "nothing changed");

    // No client on the server yet: the new name, language and scheme reach the tablet with its
    // next pull. A client the tablet registered meanwhile under the old scheme is refused and
    // stays on the tablet, counted as unsent on the dashboard.
    tablet.create(Collection::Clients, json!({"uic": "MAIV287", "gender": "woman"}))?;
    ok(&admin, &path, form("Shelter NGO", "ru", &surname)).await?;
    tablet.sync().await?;
    let devices = admin.get_json("/api/v1/dashboard/devices").await?;
    assert_eq!(devices[0]["unsent_ops"], 1, "the refused client waits on the tablet: {devices}");
    let identity = tablet.with(|s| s.identity().cloned()).ok_or_else(|| anyhow::anyhow!("not enrolled"))?;
    assert_eq!(identity.org_name, "Shelter NGO");
    assert_eq!(identity.scheme, surname);
    assert_eq!(identity.default_language.as_deref(), Some("ru"));

    // A client registered under it: the scheme stays, the name can still change.
    tablet.create(Collection::Clients, json!({"uic": "IVA21587", "gender": "woman"}))?;
    tablet.sync().await?;
    let changed = expect(&admin, &path, form("Shelter NGO", "ru", &UicScheme::central_asia()), 409, "clash").await?;
    assert!(changed["message"].as_str().unwrap_or_default().contains("1 client"), "{changed}");
    let org = ok(&admin, &path, form("Shelter NGO (Kyiv)", "uk", &surname)).await?;
    assert_eq!(
        (org["scheme_changeable"].clone(), org["uic_scheme"]["name"].clone()),
        (json!(false), json!("surname_day_year"))
    );
    tablet.sync().await?;
    assert_eq!(tablet.with(|s| s.identity().map(|i| i.org_name.clone())), Some("Shelter NGO (Kyiv)".into()));
    let log = server.storage.audit_log().await?;
    let changes: Vec<_> = log.iter().filter(|e| e.action == "org.change").collect();
    assert_eq!(changes.len(), 2, "two accepted changes, refused ones not audited");
    assert!(changes[0].detail.contains("uic_scheme: central_asia → surname_day_year"), "{}", changes[0].detail);
    server.stop().await
}

on_both_backends!(
    a_programme_is_set_up_in_the_browser_and_reaches_its_tablets,
    staff_accounts_are_managed_in_the_browser,
    the_organisation_is_named_and_its_scheme_chosen_before_it_has_clients
);

/// A real programme's server starts without the demo organisation and creates its own from the
/// command line: its sites, the default catalogue, then staff; bad or second creations refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_without_the_demo_creates_its_own_organisation() -> Result {
    use outpost_tests::ServerProcess;
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("data");
    let dir_text = dir.display().to_string();
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--data-dir", dir_text.as_str()]);
        ServerProcess::run_cli_output(&all)
    };
    let (ok, _, err) = cli(&["user", "add", "--username", "nadia", "--role", "admin"])?;
    assert!(!ok && err.contains("org create"), "with no organisation the error says what to do: {err}");

    for (args, problem) in [
        (vec!["--name", " "], "name"),
        (vec!["--name", "Tbilisi HR", "--language", "georgian"], "default_language"),
        (vec!["--name", "Tbilisi HR", "--scheme", "mine"], "uic_scheme"),
        (vec!["--name", "Tbilisi HR", "--site", "Van", "--site", "van"], "the site \"van\" is named twice"),
    ] {
        let mut all = vec!["org", "create"];
        all.extend(args);
        let (ok, _, err) = cli(&all)?;
        assert!(!ok && err.contains(problem), "{problem}: {err}");
    }
    let (ok, out, err) = cli(&[
        "org",
        "create",
        "--name",
        "Tbilisi harm reduction",
        "--language",
        "ka",
        "--scheme",
        "surname_day_year",
        "--site",
        "Drop-in Vake",
        "--site",
        "Night van",
    ])?;
    assert!(ok, "{err}");
    assert!(
        out.contains("Tbilisi harm reduction") && out.contains("language ka") && out.contains("surname_day_year"),
        "{out}"
    );
    let (ok, _, err) = cli(&["org", "create", "--name", "Another"])?;
    assert!(!ok && err.contains("already has an organisation"), "{err}");
    let (ok, _, err) = cli(&["user", "add", "--username", "nadia", "--role", "admin"])?;
    assert!(ok, "{err}");

    let url = format!("sqlite://{}", dir.join("outpost.db").display());
    let store = outpost_server_store::Store::open(&url, 1, outpost_tests::server_key()).await?;
    let names: Vec<String> = store.list_sites().await?.into_iter().map(|s| s.name).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Drop-in Vake".to_string()) && names.contains(&"Night van".to_string()));
    assert!(!store.reference_records(Collection::Commodities).await?.is_empty(), "the default catalogue");
    let log = store.audit_log().await?;
    assert!(log.iter().any(|r| r.action == "org.create" && r.actor == "cli"), "not audited");
    Ok(())
}
