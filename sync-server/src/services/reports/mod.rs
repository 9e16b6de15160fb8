//! Coordinators' reports: the indicators of `domain.md`, monthly trends, survey results, stock
//! and exports, computed in the database over the merged records and the typed projection.
//!
//! * [`filters`]: what a report covers, from a request's parameters;
//! * [`queries`]: the SQL (once for both backends), returning plain counts;
//! * [`indicators`]: indicators and trends from those counts, with suppression;
//! * [`surveys`]: survey results and the survey export, driven by the forms' definitions;
//! * [`stock`]: stock levels, use and days left;
//! * [`export`]: rows for CSV and XLSX files.

pub mod export;
pub mod filters;
pub mod indicators;
pub mod queries;
pub mod sets;
pub mod stock;
pub mod surveys;

pub use filters::{Filter, FilterError};
pub use indicators::{IndicatorReport, SMALL_CELL, Trends, indicators, trends};
pub use stock::{Stock, stock};
pub use surveys::{SurveyResults, surveys};
