//! Hybrid logical clock.
//!
//! A stamp is wall-clock milliseconds, a counter for events within one millisecond, and the
//! device id as the final tie-break, so two stamps are never equal unless they are the same
//! event. The text form is fixed-width and sorts in the same order as the stamps, so storage can
//! compare stamps as strings (SQLite and PostgreSQL alike).

use crate::ids::DeviceId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// The largest wall time accepted in a stamp: 9999-12-31T23:59:59.999Z.
pub const MAX_WALL_MS: u64 = 253_402_300_799_999;

/// One point in hybrid logical time. Ordered by wall time, then counter, then device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u16,
    pub device: DeviceId,
}

/// Why a stamp's text form was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum HlcParseError {
    #[error("a stamp looks like 001764115200000-00000-<device uuid>")]
    Shape,
    #[error("the stamp's wall time is out of range")]
    WallRange,
    #[error("the stamp's device id is not a UUID")]
    Device,
}

impl Hlc {
    pub const fn new(wall_ms: u64, counter: u16, device: DeviceId) -> Self {
        Self { wall_ms, counter, device }
    }

    /// This stamp with its wall time moved back to `wall_ms`, keeping counter and device.
    /// Used by the server to clamp stamps from tablets whose clock runs ahead.
    pub fn clamped_to(self, wall_ms: u64, counter: u16) -> Self {
        Self { wall_ms, counter, device: self.device }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:05}-{}", self.wall_ms, self.counter, self.device)
    }
}

impl FromStr for Hlc {
    type Err = HlcParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // 15 digits, '-', 5 digits, '-', 36-character UUID.
        if s.len() != 15 + 1 + 5 + 1 + 36 || !s.is_ascii() {
            return Err(HlcParseError::Shape);
        }
        let (wall, rest) = s.split_at(15);
        let (sep1, rest) = rest.split_at(1);
        let (counter, rest) = rest.split_at(5);
        let (sep2, device) = rest.split_at(1);
        if sep1 != "-" || sep2 != "-" {
            return Err(HlcParseError::Shape);
        }
        if !wall.bytes().all(|b| b.is_ascii_digit()) || !counter.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HlcParseError::Shape);
        }
        let wall_ms: u64 = wall.parse().map_err(|_| HlcParseError::Shape)?;
        if wall_ms > MAX_WALL_MS {
            return Err(HlcParseError::WallRange);
        }
        let counter: u16 = counter.parse().map_err(|_| HlcParseError::Shape)?;
        let device = device.parse::<DeviceId>().map_err(|_| HlcParseError::Device)?;
        // Only the canonical lower-case hyphenated form keeps string order equal to stamp order.
        if device.to_string() != device_text(s) {
            return Err(HlcParseError::Device);
        }
        Ok(Self { wall_ms, counter, device })
    }
}

fn device_text(s: &str) -> &str {
    &s[22..]
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A device's clock: issues strictly increasing stamps and moves forward past stamps it sees.
#[derive(Clone, Debug)]
pub struct HlcClock {
    last: Hlc,
    /// How far ahead of the local wall clock an observed stamp may pull this clock.
    max_forward_ms: u64,
}

/// Default limit on how far an observed stamp may pull a clock ahead of its own wall time.
pub const DEFAULT_MAX_FORWARD_MS: u64 = 24 * 3600 * 1000;

impl HlcClock {
    /// A fresh clock for `device`.
    pub fn new(device: DeviceId) -> Self {
        Self::resume(Hlc::new(0, 0, device))
    }

    /// A clock that continues after the last stamp it issued (persisted by the caller).
    pub fn resume(last: Hlc) -> Self {
        Self { last, max_forward_ms: DEFAULT_MAX_FORWARD_MS }
    }

    /// The last stamp issued or observed.
    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A new stamp for a local event at wall time `now_ms`, greater than every stamp before.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        let now_ms = now_ms.min(MAX_WALL_MS);
        let next = if now_ms > self.last.wall_ms {
            Hlc::new(now_ms, 0, self.last.device)
        } else if self.last.counter < u16::MAX {
            Hlc::new(self.last.wall_ms, self.last.counter + 1, self.last.device)
        } else {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            Hlc::new(self.last.wall_ms + 1, 0, self.last.device)
        };
        self.last = next;
        next
    }

    /// Moves the clock past a stamp seen from elsewhere, so that a later local edit wins over
    /// what this device has already seen. A stamp further ahead of `now_ms` than the allowed
    /// drift is not followed (a peer with a broken clock must not drag everyone into the
    /// future); the function returns `false` in that case.
    pub fn observe(&mut self, seen: Hlc, now_ms: u64) -> bool {
        if seen.wall_ms > now_ms.saturating_add(self.max_forward_ms) {
            return false;
        }
        if (seen.wall_ms, seen.counter) > (self.last.wall_ms, self.last.counter) {
            self.last = Hlc::new(seen.wall_ms, seen.counter, self.last.device);
        }
        true
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Hlc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A hybrid logical clock stamp: 15-digit wall-clock milliseconds, 5-digit counter and the device id, \
                 joined by '-' (so stamps sort as text like they compare)",
            ))
            .pattern(Some(r"^[0-9]{15}-[0-9]{5}-[0-9a-f-]{36}$"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Hlc {}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(n: u8) -> DeviceId {
        DeviceId(uuid::Uuid::from_bytes([n; 16]))
    }

    #[test]
    fn text_form_round_trips_and_sorts_like_stamps() {
        let stamps = [
            Hlc::new(5, 0, dev(2)),
            Hlc::new(5, 0, dev(1)),
            Hlc::new(5, 1, dev(0)),
            Hlc::new(1_764_115_200_000, 7, dev(9)),
            Hlc::new(40, 65_535, dev(3)),
        ];
        for a in stamps {
            assert_eq!(a.to_string().parse::<Hlc>(), Ok(a));
            for b in stamps {
                assert_eq!(a.cmp(&b), a.to_string().cmp(&b.to_string()), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        let good = Hlc::new(1, 2, dev(0xab)).to_string();
        let cases: Vec<(String, HlcParseError)> = vec![
            (String::new(), HlcParseError::Shape),
            (good.replace('-', "+"), HlcParseError::Shape),
            (good.to_uppercase(), HlcParseError::Device),
            (format!("999999999999999{}", &good[15..]), HlcParseError::WallRange),
            (format!("{}zzzzzzzz{}", &good[..22], &good[30..]), HlcParseError::Device),
            (good.replace("00002-", "0000x-"), HlcParseError::Shape),
        ];
        for (text, expect) in cases {
            assert_eq!(text.parse::<Hlc>(), Err(expect), "{text}");
        }
    }

    #[test]
    fn tick_is_strictly_increasing_even_when_wall_time_goes_back() {
        let mut clock = HlcClock::new(dev(1));
        let a = clock.tick(100);
        let b = clock.tick(100);
        let c = clock.tick(50);
        let d = clock.tick(200);
        assert!(a < b && b < c && c < d);
        assert_eq!((c.wall_ms, c.counter), (100, 2));
        assert_eq!((d.wall_ms, d.counter), (200, 0));
    }

    #[test]
    fn counter_overflow_borrows_next_millisecond() {
        let mut clock = HlcClock::resume(Hlc::new(10, u16::MAX, dev(1)));
        assert_eq!(clock.tick(10), Hlc::new(11, 0, dev(1)));
    }

    #[test]
    fn observe_moves_past_seen_stamps_within_drift() {
        let mut clock = HlcClock::new(dev(1));
        assert!(clock.observe(Hlc::new(1_000, 4, dev(2)), 900));
        let next = clock.tick(900);
        assert!(next > Hlc::new(1_000, 4, dev(2)));
        let far = Hlc::new(900 + DEFAULT_MAX_FORWARD_MS + 1, 0, dev(2));
        assert!(!clock.observe(far, 900));
        assert!(clock.tick(900) < far);
    }
}
