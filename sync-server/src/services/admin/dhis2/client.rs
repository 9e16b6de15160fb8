//! Posting a `dataValueSets` payload to a DHIS2 server and reading its import summary. The
//! personal access token goes in the `Authorization: ApiToken …` header and nowhere else (not in
//! the address, the log or an error). DHIS2 answers either with the summary itself or, from
//! version 2.38, wrapped in a web message (`{"httpStatus", "status", "response": {summary}}`);
//! a request with conflicts may come back as HTTP 409 with the summary inside. Both are read.

use serde::Serialize;
use std::time::Duration;

/// How long a send may take before it is given up.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// What DHIS2 did with the values (or would do, for a dry run).
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema, ts_rs::TS)]
pub struct ImportSummary {
    /// `SUCCESS`, `WARNING` or `ERROR`, as DHIS2 says.
    pub status: String,
    pub imported: i64,
    pub updated: i64,
    pub ignored: i64,
    pub deleted: i64,
    /// DHIS2's complaints, `object: value` each.
    pub conflicts: Vec<String>,
}

impl ImportSummary {
    /// Whether every value was taken (nothing refused).
    pub fn clean(&self) -> bool {
        self.status != "ERROR" && self.conflicts.is_empty()
    }
}

/// Why a send did not get an import summary.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("could not reach the DHIS2 server at {url}: {why}")]
    Unreachable { url: String, why: String },
    #[error(
        "the DHIS2 server at {url} refused the token (HTTP {status}): check that it is a valid personal access token of a user who may write data values for this data set"
    )]
    Refused { url: String, status: u16 },
    #[error("the DHIS2 server at {url} answered HTTP {status} without an import summary: {body}")]
    Unexpected { url: String, status: u16, body: String },
}

fn count(value: &serde_json::Value, name: &str) -> i64 {
    value.get("importCount").and_then(|c| c.get(name)).and_then(|n| n.as_i64()).unwrap_or(0)
}

/// Reads an import summary, bare or wrapped in a web message.
pub fn parse_summary(body: &serde_json::Value) -> Option<ImportSummary> {
    let summary = if body.get("importCount").is_some() { body } else { body.get("response")? };
    summary.get("importCount")?;
    let conflicts = summary
        .get("conflicts")
        .and_then(|c| c.as_array())
        .map(|all| {
            all.iter()
                .map(|c| {
                    let object =
                        c.get("object").map(|o| o.as_str().map(str::to_string).unwrap_or_else(|| o.to_string()));
                    let value = c.get("value").and_then(|v| v.as_str()).unwrap_or_default();
                    match object {
                        Some(o) => format!("{o}: {value}"),
                        None => value.to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ImportSummary {
        status: summary.get("status").and_then(|s| s.as_str()).unwrap_or("SUCCESS").to_string(),
        imported: count(summary, "imported"),
        updated: count(summary, "updated"),
        ignored: count(summary, "ignored"),
        deleted: count(summary, "deleted"),
        conflicts,
    })
}

/// Posts `payload` to `{base}/api/dataValueSets`, as a dry run or for real.
pub async fn send(
    base: &str,
    token: &str,
    payload: &serde_json::Value,
    dry_run: bool,
) -> Result<ImportSummary, SendError> {
    let base = base.trim_end_matches('/');
    let url = format!("{base}/api/dataValueSets");
    let client = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| SendError::Unreachable { url: base.to_string(), why: e.to_string() })?;
    let response = client
        .post(&url)
        .query(&[("dryRun", if dry_run { "true" } else { "false" }), ("importStrategy", "CREATE_AND_UPDATE")])
        .header(reqwest::header::AUTHORIZATION, format!("ApiToken {token}"))
        .header(reqwest::header::ACCEPT, "application/json")
        .json(payload)
        .send()
        .await
        .map_err(|e| SendError::Unreachable { url: base.to_string(), why: reason(e) })?;
    let status = response.status().as_u16();
    if status == 401 || status == 403 {
        return Err(SendError::Refused { url: base.to_string(), status });
    }
    let text = response.text().await.map_err(|e| SendError::Unreachable { url: base.to_string(), why: reason(e) })?;
    let parsed = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| parse_summary(&v));
    match parsed {
        Some(summary) if (200..300).contains(&status) || status == 409 => Ok(summary),
        _ => Err(SendError::Unexpected {
            url: base.to_string(),
            status,
            body: text.chars().take(200).collect::<String>(),
        }),
    }
}

/// A transport error in words, without the request (which holds no secret, but says nothing
/// more useful).
fn reason(e: reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} seconds", SEND_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "the connection was refused or the address does not resolve".to_string()
    } else {
        e.without_url().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_are_read_bare_and_wrapped() {
        let bare = json!({"status": "SUCCESS", "importCount": {"imported": 3, "updated": 1, "ignored": 0, "deleted": 0}, "conflicts": []});
        let s = parse_summary(&bare).unwrap_or_default();
        assert_eq!((s.status.as_str(), s.imported, s.updated, s.clean()), ("SUCCESS", 3, 1, true));
        let wrapped = json!({"httpStatus": "Conflict", "httpStatusCode": 409, "status": "WARNING", "response": {
            "responseType": "ImportSummary", "status": "WARNING", "importCount": {"imported": 1, "updated": 0, "ignored": 1, "deleted": 0},
            "conflicts": [{"object": "aUnknown001", "value": "Data element not found or not accessible"}]}});
        let s = parse_summary(&wrapped).unwrap_or_default();
        assert_eq!((s.status.as_str(), s.ignored, s.clean()), ("WARNING", 1, false));
        assert_eq!(s.conflicts, ["aUnknown001: Data element not found or not accessible"]);
        assert!(parse_summary(&json!({"message": "Not found"})).is_none());
    }
}
