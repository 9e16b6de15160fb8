//! What the server does, apart from speaking HTTP: account rules, administration (sites,
//! catalogue, kits, tablets, enrolment codes), batch checks,
//! conflict review, forms (reading uploaded XLSForm workbooks), reports, transfers between
//! databases and maintenance. Services call the
//! store; they know nothing of HTTP.

pub mod accounts;
pub mod admin;
pub mod conflicts;
pub mod forms;
pub mod maintenance;
pub mod reports;
pub mod sync;
pub mod tokens;
pub mod transfer;
