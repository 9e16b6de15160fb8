//! The oracles of the client code (UIC): parsing, building, normalising letters and near
//! matches.

use crate::oracle::*;
use outpost_core::uic::{self, Script, Uic, UicComponent, UicError, UicScheme};
use std::collections::{BTreeMap, BTreeSet};

/// A scheme as received from a server: its length and questions agree with its components, and
/// codes it builds from valid answers (or from none) parse with it.
pub(crate) fn scheme_checks(scheme: &UicScheme) -> Result<String, String> {
    let expected: usize = scheme.components.iter().map(component_len).sum();
    if scheme.len() != expected || scheme.is_empty() != scheme.components.is_empty() {
        return Err(format!("a scheme's length disagrees with its components: len {} for {scheme:?}", scheme.len()));
    }
    if scheme.questions().len() != scheme.components.len() {
        return Err(format!("a scheme's questions disagree with its components: {scheme:?}"));
    }
    let questions = scheme.questions();
    let distinct = questions.iter().collect::<BTreeSet<_>>().len() == questions.len();
    let valid_digits = scheme
        .components
        .iter()
        .all(|c| !matches!(c, UicComponent::BirthYear { digits, .. } if !matches!(digits, 2 | 4)));
    let valid: BTreeMap<String, String> = scheme
        .components
        .iter()
        .map(|c| match c {
            UicComponent::Letters { question, .. } => (question.clone(), "Мария".to_string()),
            UicComponent::SexDigit { question } => (question.clone(), "2".to_string()),
            UicComponent::BirthYear { question, .. } => (question.clone(), "1987".to_string()),
            UicComponent::BirthDay { question } => (question.clone(), "7".to_string()),
        })
        .collect();
    let mut shape = format!("{:?}, {} component(s)", scheme.script, scheme.components.len().min(5));
    for answers in [valid, BTreeMap::new()] {
        match scheme.build(&answers) {
            Ok(code) => {
                built_code_parses(scheme, &answers, &code)?;
                shape.push_str(", built");
            }
            Err(UicError::Scheme(_)) if !valid_digits => shape.push_str(", invalid scheme"),
            Err(e) if !distinct => shape.push_str(&format!(", shared question {}", error_kind(&e))),
            Err(e) => {
                return Err(format!("build refused valid answers: {e} for {answers:?} with {}", show_debug(scheme)));
            }
        }
    }
    Ok(shape)
}

pub(crate) fn built_code_parses(
    scheme: &UicScheme,
    answers: &BTreeMap<String, String>,
    code: &Uic,
) -> Result<(), String> {
    if code.as_str().chars().count() != scheme.len() {
        return Err(format!("build made a code of the wrong length: {code} for scheme {}", scheme.name));
    }
    match scheme.parse(code.as_str()) {
        Ok(parsed) if parsed == *code => Ok(()),
        other => Err(format!(
            "build made a code its own scheme refuses: scheme {} ({:?}), answers {}, code {:?}, parse gives {other:?}",
            scheme.name,
            scheme.script,
            show_debug(answers),
            code.as_str()
        )),
    }
}

pub(crate) fn error_kind(e: &UicError) -> &'static str {
    match e {
        UicError::Sex(_) => "sex",
        UicError::Scheme(_) => "scheme",
        UicError::Year(_) => "year",
        UicError::Day(_) => "day",
        UicError::Length { .. } => "length",
        UicError::Character { .. } => "character",
    }
}

/// The `uic_parse` target's oracle (see the crate documentation).
pub fn uic_parse(input: &[u8]) -> Result<Outcome, String> {
    let text = String::from_utf8_lossy(input);
    let count = text.chars().count();
    let chars: Vec<char> = text.chars().collect();
    let mut shape = String::new();
    for scheme in schemes() {
        let classes = positions(&scheme);
        match scheme.parse(&text) {
            Ok(code) => {
                if code.as_str() != text {
                    return Err(format!("parse changed the code: {text:?} became {code:?} ({})", scheme.name));
                }
                if count != scheme.len() {
                    return Err(format!(
                        "parse accepted {count} characters for a {}-character scheme {}: {text:?}",
                        scheme.len(),
                        scheme.name
                    ));
                }
                for (i, (c, class)) in chars.iter().zip(&classes).enumerate() {
                    if !allowed_in_code(class, *c, scheme.script) {
                        return Err(format!(
                            "parse accepted {c:?} at position {} of {text:?} ({})",
                            i + 1,
                            scheme.name
                        ));
                    }
                }
                if scheme.parse(code.as_str()) != Ok(code.clone()) {
                    return Err(format!("a parsed code does not re-parse the same: {text:?} ({})", scheme.name));
                }
                shape.push('O');
            }
            Err(UicError::Length { expected, got, .. }) => {
                if expected != scheme.len() || got != count || count == scheme.len() {
                    return Err(format!(
                        "a wrong length error for {text:?}: expected {expected}, got {got} ({})",
                        scheme.name
                    ));
                }
                shape.push('L');
            }
            Err(UicError::Character { position, got, .. }) => {
                let at = position.checked_sub(1).and_then(|i| chars.get(i).zip(classes.get(i)));
                let earlier_ok = chars
                    .iter()
                    .zip(&classes)
                    .take(position.saturating_sub(1))
                    .all(|(c, k)| allowed_in_code(k, *c, scheme.script));
                let right = count == scheme.len()
                    && earlier_ok
                    && at.is_some_and(|(c, k)| *c == got && !allowed_in_code(k, *c, scheme.script));
                if !right {
                    return Err(format!(
                        "a character error points at the wrong place: position {position}, {got:?} in {text:?} ({})",
                        scheme.name
                    ));
                }
                shape.push('C');
            }
            Err(e) => {
                return Err(format!("parse answered an error it never should: {e:?} for {text:?} ({})", scheme.name));
            }
        }
    }
    Ok(if shape.contains('O') { Outcome::Accepted(shape) } else { Outcome::Rejected(shape) })
}

pub(crate) fn component_kind(component: &UicComponent) -> &'static str {
    match component {
        UicComponent::Letters { .. } => "letters",
        UicComponent::SexDigit { .. } => "sex",
        UicComponent::BirthYear { .. } => "year",
        UicComponent::BirthDay { .. } => "day",
    }
}

pub(crate) fn question_of(component: &UicComponent) -> &str {
    match component {
        UicComponent::Letters { question, .. }
        | UicComponent::SexDigit { question }
        | UicComponent::BirthYear { question, .. }
        | UicComponent::BirthDay { question } => question,
    }
}

/// The questions of every built-in scheme, for answers given as `a|b|c` text.
pub(crate) const QUESTIONS: &[&str] =
    &["mother_first_name", "father_first_name", "sex", "birth_year", "surname", "birth_day", "birth_place"];

/// The `uic_build` target's oracle (see the crate documentation).
pub fn uic_build(input: &[u8]) -> Result<Outcome, String> {
    let answers: BTreeMap<String, String> = match serde_json::from_slice(input) {
        Ok(answers) => answers,
        Err(_) => {
            let text = String::from_utf8_lossy(input);
            QUESTIONS.iter().zip(text.split('|')).map(|(q, a)| (q.to_string(), a.to_string())).collect()
        }
    };
    let mut shape = Vec::new();
    for scheme in schemes() {
        let answer = |question: &str| answers.get(question).map(|a| a.trim()).filter(|a| !a.is_empty());
        let built = scheme.build(&answers);
        match &built {
            Ok(code) => {
                built_code_parses(&scheme, &answers, code)?;
                let upper: BTreeMap<String, String> =
                    answers.iter().map(|(k, v)| (k.clone(), v.to_uppercase())).collect();
                if scheme.build(&upper) != built {
                    return Err(format!(
                        "the letter case of answers changes the code: {} gives {built:?}, upper-cased {:?} ({})",
                        show_debug(&answers),
                        scheme.build(&upper),
                        scheme.name
                    ));
                }
                let padded: BTreeMap<String, String> =
                    answers.iter().map(|(k, v)| (k.clone(), format!("  {v}\t"))).collect();
                if scheme.build(&padded) != built {
                    return Err(format!(
                        "spaces around answers change the code: {} gives {built:?}, padded {:?} ({})",
                        show_debug(&answers),
                        scheme.build(&padded),
                        scheme.name
                    ));
                }
                shape.push("ok");
            }
            Err(e) => {
                // The trimmed answers given to components of one kind.
                let given = |kind: &str| -> Vec<&str> {
                    scheme
                        .components
                        .iter()
                        .filter(|c| component_kind(c) == kind)
                        .filter_map(|c| answer(question_of(c)))
                        .collect()
                };
                let justified = match e {
                    UicError::Sex(s) => given("sex").iter().any(|a| a == s && !matches!(*a, "1" | "2" | "3")),
                    UicError::Year(y) => given("year").iter().any(|a| {
                        a == y
                            && !(a.len() == 4 && a.bytes().all(|b| b.is_ascii_digit()) && ("1900"..="2100").contains(a))
                    }),
                    UicError::Day(d) => given("day").iter().any(|a| a == d && !matches!(a.parse::<u8>(), Ok(1..=31))),
                    UicError::Scheme(_) | UicError::Length { .. } | UicError::Character { .. } => false,
                };
                if !justified {
                    return Err(format!(
                        "build refused answers for a reason they do not have: {e:?} for {} ({})",
                        show_debug(&answers),
                        scheme.name
                    ));
                }
                shape.push(error_kind(e));
            }
        }
    }
    Ok(if shape.contains(&"ok") { Outcome::Accepted(shape.join(",")) } else { Outcome::Rejected(shape.join(",")) })
}

/// The `uic_normalise` target's oracle (see the crate documentation).
pub fn uic_normalise(input: &[u8]) -> Result<Outcome, String> {
    let text = String::from_utf8_lossy(input);
    let latin = uic::normalise_letters(&text, Script::Latin);
    if let Some(c) = latin.chars().find(|c| !c.is_ascii_uppercase()) {
        return Err(format!("Latin normalising produced {c:?}, not A-Z, from {}", show(input)));
    }
    if uic::normalise_letters(&latin, Script::Latin) != latin {
        return Err(format!("Latin normalising is not idempotent on {latin:?}"));
    }
    let keep = uic::normalise_letters(&text, Script::KeepCyrillic);
    if let Some(c) = keep.chars().find(|c| !c.is_alphabetic()) {
        return Err(format!("Cyrillic-keeping normalising produced the non-letter {c:?} from {}", show(input)));
    }
    let again = uic::normalise_letters(&keep, Script::KeepCyrillic);
    if again != keep {
        return Err(format!(
            "Cyrillic-keeping normalising is not idempotent: {keep:?} became {again:?}; input {}",
            show(input)
        ));
    }
    if text.is_ascii() && latin != keep {
        return Err(format!("the scripts disagree on ASCII input {text:?}: {latin:?} and {keep:?}"));
    }
    Ok(Outcome::Accepted(format!(
        "latin {}, missing letters {}, non-ASCII kept {}",
        if latin.is_empty() { "empty" } else { "letters" },
        latin.contains(uic::MISSING),
        !keep.is_ascii()
    )))
}

/// Codes compared for near matches are short; longer text is cut so that the quadratic edit
/// distance does not dominate the run.
pub(crate) const NEAR_MATCH_CHARS: usize = 64;

/// The `uic_near_match` target's oracle (see the crate documentation).
pub fn uic_near_match(input: &[u8]) -> Result<Outcome, String> {
    let text = String::from_utf8_lossy(input);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    let a: String = a.chars().take(NEAR_MATCH_CHARS).collect();
    let b: String = b.chars().take(NEAR_MATCH_CHARS).collect();
    let (la, lb) = (a.chars().count(), b.chars().count());
    let d = uic::edit_distance(&a, &b);
    if d != uic::edit_distance(&b, &a) {
        return Err(format!("edit_distance is not symmetric for {a:?} and {b:?}"));
    }
    if (d == 0) != (a == b) || d < la.abs_diff(lb) || d > la.max(lb) {
        return Err(format!("edit_distance({a:?}, {b:?}) = {d} is out of its bounds"));
    }
    let near = uic::is_near_match(&a, &b);
    if near != uic::is_near_match(&b, &a) {
        return Err(format!("is_near_match is not symmetric for {a:?} and {b:?}"));
    }
    if uic::is_near_match(&a, &a) {
        return Err(format!("a code is a near match of itself: {a:?}"));
    }
    // A near match is the same year with one slip before it, or the same rest with a year one
    // off or swapped (at most two edits: 99 and 00).
    let year = |s: &str| s.chars().rev().take(2).collect::<String>();
    let head = |s: &str| s.chars().take(s.chars().count().saturating_sub(2)).collect::<String>();
    if near && (d > 2 || a == b || (year(&a) != year(&b) && head(&a) != head(&b))) {
        return Err(format!("{a:?} and {b:?} near-match with distance {d} and years {:?}, {:?}", year(&a), year(&b)));
    }
    // Two adjacent letters swapped, and a two-digit year's digits swapped, are near matches.
    let chars: Vec<char> = a.chars().collect();
    if chars.len() >= 4 && chars[0] != chars[1] {
        let mut swapped = chars.clone();
        swapped.swap(0, 1);
        let swapped: String = swapped.into_iter().collect();
        if !uic::is_near_match(&a, &swapped) {
            return Err(format!("{a:?} and {swapped:?} differ by two swapped letters but do not near-match"));
        }
    }
    if let [.., tens, ones] = chars.as_slice()
        && tens.is_ascii_digit()
        && ones.is_ascii_digit()
        && tens != ones
    {
        let mut swapped = chars.clone();
        let n = swapped.len();
        swapped.swap(n - 2, n - 1);
        let swapped: String = swapped.into_iter().collect();
        if !uic::is_near_match(&a, &swapped) {
            return Err(format!("{a:?} and {swapped:?} differ by the year's digits swapped but do not near-match"));
        }
    }
    // One letter changed before the year is always a near match.
    let mut changed: Vec<char> = a.chars().collect();
    if changed.len() >= 3 {
        if let Some(first) = changed.first_mut() {
            *first = if *first == 'Z' { 'Y' } else { 'Z' };
        }
        let changed: String = changed.into_iter().collect();
        if !uic::is_near_match(&a, &changed) {
            return Err(format!("{a:?} and {changed:?} differ in the first letter only but do not near-match"));
        }
    }
    Ok(Outcome::Accepted(format!("near {near}, distance {}", d.min(3))))
}
