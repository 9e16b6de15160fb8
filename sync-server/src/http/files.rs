//! The dashboard's files, served under `/dashboard/` with a CSP that allows only its own
//! scripts, styles and images. An unknown path under it serves `index.html` (the page routes
//! itself); `..` never leaves the directory. Also the page an enrolment link opens in a browser.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of the dashboard's pages.
pub const DASHBOARD_CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

pub fn dashboard_files<S: Clone + Send + Sync + 'static>(dir: &std::path::Path) -> Router<S> {
    let index = dir.join("index.html");
    let files = ServeDir::new(dir).fallback(ServeFile::new(index));
    Router::new().fallback_service(files).layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    ))
}

/// What a person sees who opens an enrolment link (`/enrol?code=...`, the QR code of an
/// enrolment card) in a browser, for example by scanning it with a phone's camera: what the link
/// is for. The code is not repeated on the page.
pub const ENROL_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outpost tablet enrolment</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Outpost tablet enrolment</h1>
<p>This link enrols a tablet in Outpost. Open the Outpost app on the tablet, choose to enrol, and
scan or paste this link there; or type the server address and the code printed on the card.
The code works once.</p>
<h2 lang="ru">Регистрация планшета Outpost</h2>
<p lang="ru">Эта ссылка регистрирует планшет в Outpost. Откройте приложение Outpost на планшете,
выберите регистрацию и отсканируйте или вставьте эту ссылку; или введите адрес сервера и код с
карточки. Код действует один раз.</p>
<h2 lang="uk">Реєстрація планшета Outpost</h2>
<p lang="uk">Це посилання реєструє планшет в Outpost. Відкрийте застосунок Outpost на планшеті,
оберіть реєстрацію й відскануйте або вставте це посилання; або введіть адресу сервера й код із
картки. Код діє один раз.</p>
</body></html>
"#;

/// The enrolment link's page, with a policy that allows nothing but its own inline style.
pub async fn enrol_page() -> impl axum::response::IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
        ],
        ENROL_PAGE,
    )
}
