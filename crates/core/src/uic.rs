//! Unique identifier codes (UIC).
//!
//! A client is known only by a code built from answers they can repeat at every visit. The
//! answers are never stored: [`UicScheme::build`] turns them into the code and drops them. A
//! scheme is configuration (an ordered list of components), because countries use different
//! ones; [`UicScheme::central_asia`] is the default from `domain.md` (`MAIV287`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

/// Letter used for a missing answer.
pub const MISSING: char = 'X';

/// One part of a code.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UicComponent {
    /// The first `count` letters of the answer to `question`.
    Letters { question: String, count: u8 },
    /// Sex at birth / gender digit: 1 man, 2 woman, 3 other.
    SexDigit { question: String },
    /// The last `digits` digits (2 or 4) of the year of birth.
    BirthYear { question: String, digits: u8 },
    /// Day of birth, two digits.
    BirthDay { question: String },
}

/// How Cyrillic letters are written in codes.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// Cyrillic is transliterated to Latin, so one person gets one code on any keyboard.
    #[default]
    Latin,
    /// Cyrillic letters are kept as they are (upper-cased, accents stripped).
    KeepCyrillic,
}

/// A configured code scheme.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UicScheme {
    pub name: String,
    pub components: Vec<UicComponent>,
    #[serde(default)]
    pub script: Script,
}

/// A code that matched its scheme.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Uic(String);

impl Uic {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Uic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why answers or a code were refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum UicError {
    #[error("the sex digit must be 1 (man), 2 (woman) or 3 (other), got {0:?}")]
    Sex(String),
    #[error("the code scheme is invalid: {0}")]
    Scheme(String),
    #[error("the year of birth must be four digits between 1900 and 2100, got {0:?}")]
    Year(String),
    #[error("the day of birth must be between 1 and 31, got {0:?}")]
    Day(String),
    #[error("the code must be {expected} characters long for scheme {scheme}, got {got}")]
    Length { scheme: String, expected: usize, got: usize },
    #[error("character {position} of the code must be {expected}, got {got:?}")]
    Character { position: usize, expected: &'static str, got: char },
}

impl UicScheme {
    /// The default scheme: mother's and father's first-name initials, sex digit, birth year.
    pub fn central_asia() -> Self {
        Self {
            name: "central_asia".into(),
            components: vec![
                UicComponent::Letters { question: "mother_first_name".into(), count: 2 },
                UicComponent::Letters { question: "father_first_name".into(), count: 2 },
                UicComponent::SexDigit { question: "sex".into() },
                UicComponent::BirthYear { question: "birth_year".into(), digits: 2 },
            ],
            script: Script::Latin,
        }
    }

    /// Surname letters + sex + day of birth + year of birth.
    pub fn surname_day_year() -> Self {
        Self {
            name: "surname_day_year".into(),
            components: vec![
                UicComponent::Letters { question: "surname".into(), count: 3 },
                UicComponent::SexDigit { question: "sex".into() },
                UicComponent::BirthDay { question: "birth_day".into() },
                UicComponent::BirthYear { question: "birth_year".into(), digits: 2 },
            ],
            script: Script::Latin,
        }
    }

    /// Gender + four chosen letters + four-digit year.
    pub fn gender_letters_year() -> Self {
        Self {
            name: "gender_letters_year".into(),
            components: vec![
                UicComponent::SexDigit { question: "sex".into() },
                UicComponent::Letters { question: "mother_first_name".into(), count: 2 },
                UicComponent::Letters { question: "birth_place".into(), count: 2 },
                UicComponent::BirthYear { question: "birth_year".into(), digits: 4 },
            ],
            script: Script::Latin,
        }
    }

    /// The schemes a programme can choose from without defining its own.
    pub fn built_in() -> Vec<Self> {
        vec![Self::central_asia(), Self::surname_day_year(), Self::gender_letters_year()]
    }

    /// Checks a scheme a programme defined: a name, 1 to 8 parts, each question named once
    /// (`[a-z_]{1,64}`), 1 to 4 letters per name part, 2 or 4 digits of year; the code 4 to 16
    /// characters long.
    pub fn check(&self) -> Result<(), UicError> {
        let bad = |why: String| Err(UicError::Scheme(why));
        let valid_name =
            |n: &str| !n.is_empty() && n.len() <= 64 && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !valid_name(&self.name) {
            return bad(format!("the scheme's name {:?} is not lower-case letters and _", self.name));
        }
        if self.components.is_empty() || self.components.len() > 8 {
            return bad("a scheme has 1 to 8 parts".into());
        }
        let mut seen = Vec::new();
        for component in &self.components {
            let question = match component {
                UicComponent::Letters { question, count } => {
                    if !(1..=4).contains(count) {
                        return bad(format!("{question}: 1 to 4 letters"));
                    }
                    question
                }
                UicComponent::SexDigit { question } | UicComponent::BirthDay { question } => question,
                UicComponent::BirthYear { question, digits } => {
                    if *digits != 2 && *digits != 4 {
                        return bad("a birth year has 2 or 4 digits".into());
                    }
                    question
                }
            };
            if !valid_name(question) {
                return bad(format!("the question name {question:?} is not lower-case letters and _"));
            }
            if seen.contains(&question) {
                return bad(format!("the question {question:?} is asked twice"));
            }
            seen.push(question);
        }
        if !(4..=16).contains(&self.len()) {
            return bad(format!("a code is 4 to 16 characters long, this one {}", self.len()));
        }
        Ok(())
    }

    /// The questions to ask, in order.
    pub fn questions(&self) -> Vec<&str> {
        self.components
            .iter()
            .map(|c| match c {
                UicComponent::Letters { question, .. }
                | UicComponent::SexDigit { question }
                | UicComponent::BirthYear { question, .. }
                | UicComponent::BirthDay { question } => question.as_str(),
            })
            .collect()
    }

    /// The code's length in characters.
    pub fn len(&self) -> usize {
        self.components.iter().map(component_len).sum()
    }

    /// Whether the scheme has no components (never true for a usable scheme).
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// Builds the code from answers keyed by question. A missing or empty answer becomes `X`.
    pub fn build(&self, answers: &BTreeMap<String, String>) -> Result<Uic, UicError> {
        let mut code = String::with_capacity(self.len());
        for component in &self.components {
            let answer = |q: &str| answers.get(q).map(|a| a.trim()).filter(|a| !a.is_empty());
            match component {
                UicComponent::Letters { question, count } => {
                    let letters = normalise_letters(answer(question).unwrap_or(""), self.script);
                    let mut taken: Vec<char> = letters.chars().take(*count as usize).collect();
                    taken.resize(*count as usize, MISSING);
                    code.extend(taken);
                }
                UicComponent::SexDigit { question } => match answer(question) {
                    None => code.push(MISSING),
                    Some(a @ ("1" | "2" | "3")) => code.push_str(a),
                    Some(other) => return Err(UicError::Sex(other.to_string())),
                },
                UicComponent::BirthYear { digits, .. } if !matches!(digits, 2 | 4) => {
                    return Err(UicError::Scheme("a birth year has 2 or 4 digits".into()));
                }
                UicComponent::BirthYear { question, digits } => match answer(question) {
                    None => code.extend(std::iter::repeat_n(MISSING, *digits as usize)),
                    Some(year) => {
                        let valid = year.len() == 4
                            && year.bytes().all(|b| b.is_ascii_digit())
                            && ("1900"..="2100").contains(&year);
                        if !valid {
                            return Err(UicError::Year(year.to_string()));
                        }
                        code.push_str(&year[4 - *digits as usize..]);
                    }
                },
                UicComponent::BirthDay { question } => match answer(question) {
                    None => code.extend([MISSING, MISSING]),
                    Some(day) => match day.parse::<u8>() {
                        Ok(d @ 1..=31) => code.push_str(&format!("{d:02}")),
                        _ => return Err(UicError::Day(day.to_string())),
                    },
                },
            }
        }
        Ok(Uic(code))
    }

    /// Checks that a code typed or received matches this scheme's shape.
    pub fn parse(&self, code: &str) -> Result<Uic, UicError> {
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != self.len() {
            return Err(UicError::Length { scheme: self.name.clone(), expected: self.len(), got: chars.len() });
        }
        let mut position = 0;
        for component in &self.components {
            for _ in 0..component_len(component) {
                let c = chars[position];
                position += 1;
                let (ok, expected) = match component {
                    UicComponent::Letters { .. } => {
                        (c == MISSING || is_code_letter(c, self.script), "an upper-case letter or X")
                    }
                    UicComponent::SexDigit { .. } => (matches!(c, '1' | '2' | '3' | 'X'), "1, 2, 3 or X"),
                    UicComponent::BirthYear { .. } | UicComponent::BirthDay { .. } => {
                        (c.is_ascii_digit() || c == MISSING, "a digit or X")
                    }
                };
                if !ok {
                    return Err(UicError::Character { position, expected, got: c });
                }
            }
        }
        Ok(Uic(code.to_string()))
    }
}

fn component_len(component: &UicComponent) -> usize {
    match component {
        UicComponent::Letters { count, .. } => *count as usize,
        UicComponent::SexDigit { .. } => 1,
        UicComponent::BirthYear { digits, .. } => *digits as usize,
        UicComponent::BirthDay { .. } => 2,
    }
}

fn is_code_letter(c: char, script: Script) -> bool {
    c.is_ascii_uppercase()
        || (script == Script::KeepCyrillic && ('\u{0400}'..='\u{04FF}').contains(&c) && c.is_uppercase())
}

/// Upper-cases, strips accents, drops everything that is not a letter, and transliterates
/// Cyrillic when the scheme writes codes in Latin.
pub fn normalise_letters(answer: &str, script: Script) -> String {
    let mut out = String::new();
    let mut previous = None;
    for upper in answer.chars().flat_map(char::to_uppercase) {
        let before = previous.replace(upper);
        // Armenian ՈՒ is one sound, U (BGN/PCGN): the O already written becomes U.
        if script == Script::Latin && upper == 'Ւ' && before == Some('Ո') && out.ends_with('O') {
            out.pop();
            out.push('U');
            continue;
        }
        // Letters with their own transliteration (Й, Ї, Қ...) are looked up before accents
        // are stripped, so "Йосип" and "Yosyp" give the same code.
        if script == Script::Latin
            && let Some(latin) = transliterate(upper)
        {
            out.push_str(latin);
            continue;
        }
        for c in upper.to_string().nfd().filter(|c| !is_combining_mark(*c)) {
            if !c.is_alphabetic() {
                continue;
            }
            match script {
                // Only letters a code may hold: others (Ł, Ø, Ω...) count as missing, as in Latin.
                Script::KeepCyrillic if is_code_letter(c, script) => out.push(c),
                Script::KeepCyrillic => out.push(MISSING),
                Script::Latin => match transliterate(c) {
                    Some(latin) => out.push_str(latin),
                    None if c.is_ascii_uppercase() => out.push(c),
                    // Letters of other scripts have no agreed Latin form: treated as missing.
                    None => out.push(MISSING),
                },
            }
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Georgian letters ა..ჰ (Mkhedruli, U+10D0.., and their capitals, Mtavruli, U+1C90..), in
/// the National system of romanization of Georgian (2002), its apostrophes (aspiration marks,
/// not letters) left out: კ, პ, ტ, წ, ჭ, ყ read K, P, T, TS, CH, Q like their plain partners.
const GEORGIAN: [&str; 33] = [
    "A", "B", "G", "D", "E", "V", "Z", "T", "I", "K", "L", "M", "N", "O", "P", "ZH", "R", "S", "T", "U", "P", "K",
    "GH", "Q", "SH", "CH", "TS", "DZ", "TS", "CH", "KH", "J", "H",
];

/// Armenian capitals Ա..Ֆ (U+0531..U+0556; small letters arrive upper-cased), in the BGN/PCGN
/// romanization of Eastern Armenian (1981), without its apostrophes and with one form per
/// letter (Ե is E, Ո is O, wherever they stand; ՈՒ is U, see `normalise_letters`).
const ARMENIAN: [&str; 38] = [
    "A", "B", "G", "D", "E", "Z", "E", "Y", "T", "ZH", "I", "L", "KH", "TS", "K", "H", "DZ", "GH", "CH", "M", "Y", "N",
    "SH", "O", "CH", "P", "J", "R", "S", "V", "T", "R", "TS", "V", "P", "K", "O", "F",
];

/// One letter (upper-cased) in Latin, for the schemes that write codes in Latin; `None` for a
/// Latin letter that is one already, or whose accent comes off (Č, Ő, Ș...), and for letters
/// with no agreed Latin form.
///
/// Cyrillic follows the common passport transliteration of Russian and Ukrainian; the letters
/// only Serbian and Macedonian have follow their official Latin alphabets (Serbian Gaj's
/// alphabet, Macedonian romanisation of 2008) written without diacritics, so Ђ and Đ both give
/// DJ and Џ and Dž both DZ. Letters shared with Russian (Ж, Ч, Ш, Ц, Х) keep the Russian form:
/// a Serbian name typed in Cyrillic and in Latin may then differ (docs/guides/coordinators.md).
/// Latin letters without a decomposition are spelt as their languages do without diacritics:
/// Azerbaijani Ə as A (its passports), Polish Ł as L, Nordic Ø and Æ as O and AE.
fn transliterate(c: char) -> Option<&'static str> {
    let code = c as u32;
    if let Some(i) =
        code.checked_sub(0x10D0).filter(|i| *i < 33).or_else(|| code.checked_sub(0x1C90).filter(|i| *i < 33))
    {
        return GEORGIAN.get(i as usize).copied();
    }
    if let Some(i) = code.checked_sub(0x0531).filter(|i| *i < 38) {
        return ARMENIAN.get(i as usize).copied();
    }
    Some(match c {
        // Serbian and Macedonian.
        'Ђ' | 'Đ' => "DJ",
        'Ћ' => "C",
        'Џ' => "DZ",
        'Ѕ' => "DZ",
        'Ј' => "J",
        'Љ' => "LJ",
        'Њ' => "NJ",
        'Ѓ' => "GJ",
        'Ќ' => "KJ",
        // Latin letters with no decomposition.
        'Ə' => "A",
        'Ł' => "L",
        'Ø' => "O",
        'Æ' => "AE",
        'Œ' => "OE",
        'Þ' => "TH",
        'Ð' => "D",
        'Ħ' => "H",
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "G",
        'Ґ' => "G",
        'Д' => "D",
        'Е' => "E",
        'Є' => "YE",
        'Ж' => "ZH",
        'З' => "Z",
        'И' => "I",
        'І' => "I",
        'Ї' => "YI",
        'Й' => "Y",
        'К' => "K",
        'Л' => "L",
        'М' => "M",
        'Н' => "N",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'У' => "U",
        'Ф' => "F",
        'Х' => "KH",
        'Ц' => "TS",
        'Ч' => "CH",
        'Ш' => "SH",
        'Щ' => "SHCH",
        'Ъ' => "",
        'Ы' => "Y",
        'Ь' => "",
        'Э' => "E",
        'Ю' => "YU",
        'Я' => "YA",
        // Kazakh, Kyrgyz, Uzbek and Tajik letters, as in their official Latin alphabets.
        'Қ' => "Q",
        'Ғ' => "G",
        'Ү' => "U",
        'Ұ' => "U",
        'Ө' => "O",
        'Ә' => "A",
        'Ң' => "N",
        'Һ' => "H",
        'Ҳ' => "H",
        'Ҷ' => "J",
        'Ў' => "U",
        'Ӣ' => "I",
        'Ӯ' => "U",
        'Ё' => "YO",
        _ => return None,
    })
}

/// Edit distance between two codes, in characters: insertions, deletions, substitutions and
/// swaps of two adjacent characters each count one (the optimal string alignment distance, a
/// restricted Damerau-Levenshtein), since "MAIV" typed as "MIAV" is one slip, not two.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Rows i-2, i-1 and i of the distance table.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let substitution = prev[j] + usize::from(a[i] != b[j]);
            let mut best = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                best = best.min(before[j - 1] + 1);
            }
            cur[j + 1] = best;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A code's last two characters as a two-digit year, and what comes before them.
fn split_year(code: &str) -> (&str, Option<(u32, u32)>) {
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    if let [.., (at, tens), (_, ones)] = chars.as_slice()
        && let (Some(tens), Some(ones)) = (tens.to_digit(10), ones.to_digit(10))
    {
        return (&code[..*at], Some((tens, ones)));
    }
    (code, None)
}

/// Two two-digit years a person may give for the same birth: one apart (across a century too:
/// 99 and 00), or the same digits swapped.
fn years_near((a1, a2): (u32, u32), (b1, b2): (u32, u32)) -> bool {
    let (a, b) = (a1 * 10 + a2, b1 * 10 + b2);
    (a + 1) % 100 == b || (b + 1) % 100 == a || (a != b && a1 == b2 && a2 == b1)
}

/// Whether `candidate` is a likely mistyping of (or collision with) `code`, to show before a new
/// client is registered: where both end in a two-digit birth year, either the same year and the
/// rest one edit apart (a letter changed, added, dropped or two swapped), or the same rest and a
/// year one off or with its digits swapped; otherwise the same last two characters and one edit
/// apart.
pub fn is_near_match(code: &str, candidate: &str) -> bool {
    if code == candidate {
        return false;
    }
    match (split_year(code), split_year(candidate)) {
        ((head, Some(year)), (other_head, Some(other_year))) => {
            (year == other_year && edit_distance(head, other_head) <= 1)
                || (head == other_head && years_near(year, other_year))
        }
        // No year to compare: the last two characters must agree, and the rest be one edit apart.
        _ => {
            let last_two = |s: &str| s.chars().rev().take(2).collect::<String>();
            last_two(code) == last_two(candidate) && edit_distance(code, candidate) <= 1
        }
    }
}

/// What a store looks codes up by before [`is_near_match`] decides: every near match of
/// `code` ends in the same last two characters (the birth year's digits, when it has one), or,
/// when `code` ends in a year, begins with what precedes the year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearMatchKeys {
    /// The code's last two characters (the whole code when shorter).
    pub last_two: String,
    /// What precedes the year, when the code ends in one.
    pub head: Option<String>,
}

/// The [`NearMatchKeys`] of `code`.
pub fn near_match_keys(code: &str) -> NearMatchKeys {
    let chars: Vec<char> = code.chars().collect();
    let last_two = chars[chars.len().saturating_sub(2)..].iter().collect();
    match split_year(code) {
        (head, Some(_)) => NearMatchKeys { last_two, head: Some(head.to_string()) },
        (_, None) => NearMatchKeys { last_two, head: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn default_scheme_examples() {
        let scheme = UicScheme::central_asia();
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<&'a str, UicError>);
        let cases: &[Case] = &[
            (
                &[("mother_first_name", "Maria"), ("father_first_name", "Ivan"), ("sex", "2"), ("birth_year", "1987")],
                Ok("MAIV287"),
            ),
            (
                &[
                    ("mother_first_name", " maria "),
                    ("father_first_name", "ivan"),
                    ("sex", "2"),
                    ("birth_year", "1987"),
                ],
                Ok("MAIV287"),
            ),
            (
                &[("mother_first_name", "Мария"), ("father_first_name", "Иван"), ("sex", "2"), ("birth_year", "1987")],
                Ok("MAIV287"),
            ),
            (
                &[("mother_first_name", "Éva"), ("father_first_name", "Ödön"), ("sex", "1"), ("birth_year", "2001")],
                Ok("EVOD101"),
            ),
            (
                &[("mother_first_name", "Жанна"), ("father_first_name", "Юрий"), ("sex", "3"), ("birth_year", "1990")],
                Ok("ZHYU390"),
            ),
            (&[("mother_first_name", "A"), ("sex", "1")], Ok("AXXX1XX")),
            (
                &[
                    ("mother_first_name", "Anne-Marie"),
                    ("father_first_name", "O'Neil"),
                    ("sex", "1"),
                    ("birth_year", "1970"),
                ],
                Ok("ANON170"),
            ),
            (&[("sex", "4")], Err(UicError::Sex("4".into()))),
            (&[("birth_year", "87")], Err(UicError::Year("87".into()))),
            (&[("birth_year", "3000")], Err(UicError::Year("3000".into()))),
        ];
        for (input, expect) in cases {
            let got = scheme.build(&answers(input)).map(|u| u.0);
            assert_eq!(got, expect.clone().map(str::to_string), "{input:?}");
        }
    }

    #[test]
    fn other_schemes_by_configuration() {
        let a = answers(&[
            ("surname", "Petrenko"),
            ("sex", "1"),
            ("birth_day", "7"),
            ("birth_year", "1985"),
            ("mother_first_name", "Olena"),
            ("birth_place", "Kyiv"),
        ]);
        assert_eq!(UicScheme::surname_day_year().build(&a).map(|u| u.0), Ok("PET10785".into()));
        assert_eq!(UicScheme::gender_letters_year().build(&a).map(|u| u.0), Ok("1OLKY1985".into()));
        let bad_day = answers(&[("birth_day", "32")]);
        assert_eq!(UicScheme::surname_day_year().build(&bad_day), Err(UicError::Day("32".into())));
    }

    #[test]
    fn a_code_built_with_cyrillic_kept_always_parses() {
        // Found by the fuzzer: letters of other alphabets used to be kept and then refused.
        let mut scheme = UicScheme::central_asia();
        scheme.script = Script::KeepCyrillic;
        let a = answers(&[
            ("mother_first_name", "Łucja"),
            ("father_first_name", "Øystein"),
            ("sex", "2"),
            ("birth_year", "1987"),
        ]);
        let code = scheme.build(&a).map(|u| u.0);
        assert_eq!(code, Ok("XUXY287".into()));
        assert!(scheme.parse("XUXY287").is_ok());
    }

    /// Letters of the region's languages and real names' spellings: each name gives the Latin
    /// letters its national romanisation gives (without diacritics), never X.
    #[test]
    fn names_of_the_region_become_latin_letters() {
        let cases = [
            // Georgian (National system, 2002).
            ("ნინო", "NINO"),
            ("გიორგი", "GIORGI"),
            ("ქეთევან", "KETEVAN"),
            ("შოთა", "SHOTA"),
            ("ხათუნა", "KHATUNA"),
            ("ჯაბა", "JABA"),
            ("ცირა", "TSIRA"),
            ("ღვთისო", "GHVTISO"),
            ("ჟუჟუნა", "ZHUZHUNA"),
            ("ყვარყვარე", "QVARQVARE"),
            // Armenian (BGN/PCGN, Eastern).
            ("Անի", "ANI"),
            ("Արթուր", "ARTUR"),
            ("Գևորգ", "GEVORG"),
            ("Հովհաննես", "HOVHANNES"),
            ("Նարինե", "NARINE"),
            ("Ժաննա", "ZHANNA"),
            // Serbian and Macedonian Cyrillic, and the Serbian Latin spelling of the same names.
            ("Јована", "JOVANA"),
            ("Љиљана", "LJILJANA"),
            ("Њего", "NJEGO"),
            ("Ђорђе", "DJORDJE"),
            ("Đorđe", "DJORDJE"),
            ("Ћирило", "CIRILO"),
            ("Ćirilo", "CIRILO"),
            ("Џенан", "DZENAN"),
            ("Dženan", "DZENAN"),
            ("Ѓорѓи", "GJORGJI"),
            ("Ќиро", "KJIRO"),
            ("Ѕвезда", "DZVEZDA"),
            // Latin letters of the Baltics, Hungary, Romania, Albania, Turkey, Azerbaijan, Poland.
            ("Žydrūnė", "ZYDRUNE"),
            ("Ģirts", "GIRTS"),
            ("Õnne", "ONNE"),
            ("Győző", "GYOZO"),
            ("Ștefan", "STEFAN"),
            ("Țuțu", "TUTU"),
            ("Çlirim", "CLIRIM"),
            ("Ëngjëll", "ENGJELL"),
            ("Işıl", "ISIL"),
            ("İbrahim", "IBRAHIM"),
            ("Çağla", "CAGLA"),
            ("Əli", "ALI"),
            ("Şəhla", "SAHLA"),
            ("Łukasz", "LUKASZ"),
            ("Groß", "GROSS"),
        ];
        for (name, latin) in cases {
            assert_eq!(normalise_letters(name, Script::Latin), latin, "{name}");
        }
        // A Georgian woman born in 1987 no longer gets XXXX287.
        let a = answers(&[
            ("mother_first_name", "ნინო"),
            ("father_first_name", "გიორგი"),
            ("sex", "2"),
            ("birth_year", "1987"),
        ]);
        assert_eq!(UicScheme::central_asia().build(&a).map(|u| u.0), Ok("NIGI287".into()));
    }

    #[test]
    fn keep_cyrillic_when_configured() {
        let mut scheme = UicScheme::central_asia();
        scheme.script = Script::KeepCyrillic;
        let a = answers(&[
            ("mother_first_name", "мария"),
            ("father_first_name", "Йосип"),
            ("sex", "1"),
            ("birth_year", "1999"),
        ]);
        let code = scheme.build(&a).map(|u| u.0);
        assert_eq!(code, Ok("МАИО199".into()));
        assert!(scheme.parse("МАИО199").is_ok());
        let kazakh = answers(&[
            ("mother_first_name", "Әсел"),
            ("father_first_name", "Қайрат"),
            ("sex", "2"),
            ("birth_year", "1995"),
        ]);
        let code = scheme.build(&kazakh).map(|u| u.0).unwrap_or_default();
        assert_eq!(code, "ӘСҚА295");
        assert!(scheme.parse(&code).is_ok(), "codes the scheme builds, it accepts");
        assert!(UicScheme::central_asia().parse("МАИО199").is_err());
    }

    #[test]
    fn parse_checks_shape() {
        let scheme = UicScheme::central_asia();
        assert!(scheme.parse("MAIV287").is_ok());
        assert!(scheme.parse("XXXXXXX").is_ok());
        let cases = [
            ("MAIV28", UicError::Length { scheme: "central_asia".into(), expected: 7, got: 6 }),
            ("maIV287", UicError::Character { position: 1, expected: "an upper-case letter or X", got: 'm' }),
            ("MAIV487", UicError::Character { position: 5, expected: "1, 2, 3 or X", got: '4' }),
            ("MAIV2A7", UicError::Character { position: 6, expected: "a digit or X", got: 'A' }),
            ("MA1V287", UicError::Character { position: 3, expected: "an upper-case letter or X", got: '1' }),
        ];
        for (code, expect) in cases {
            assert_eq!(scheme.parse(code), Err(expect), "{code}");
        }
    }

    #[test]
    fn near_matches() {
        assert_eq!(edit_distance("MAIV287", "MAIV287"), 0);
        assert_eq!(edit_distance("MAIV287", "MAIW287"), 1);
        assert_eq!(edit_distance("MAIV287", "AIV287"), 1);
        assert_eq!(edit_distance("MAIV287", "MIAV287"), 1, "two adjacent letters swapped are one slip");
        assert_eq!(edit_distance("AB", "BA"), 1);
        assert_eq!(edit_distance("ABC", "CA"), 3, "the restricted distance does not edit a swapped pair");
        assert!(is_near_match("MAIV287", "MAIW287"));
        assert!(!is_near_match("MAIV287", "MAIV287"));
        assert!(!is_near_match("MAIV287", "MOIW287"));
        let near = [
            ("MAIV287", "MIAV287", "letters swapped"),
            ("MAIV287", "MAVI287", "letters swapped"),
            ("MAIV287", "MAI287", "a letter dropped"),
            ("MAIV287", "MAIV288", "a year later"),
            ("MAIV287", "MAIV286", "a year earlier"),
            ("MAIV287", "MAIV278", "the year's digits swapped"),
            ("MAIV299", "MAIV200", "across the century"),
            ("OLPE0512", "OLPE0513", "a custom scheme whose code ends in a year"),
        ];
        for (code, candidate, why) in near {
            assert!(is_near_match(code, candidate), "{code} ~ {candidate}: {why}");
            assert!(is_near_match(candidate, code), "{candidate} ~ {code}: {why}, either way round");
        }
        let far = [
            ("MAIV287", "MAIW288", "a letter and the year"),
            ("MAIV287", "MAIV285", "two years apart"),
            ("MAIV287", "IMVA287", "two swaps"),
            ("MAIV277", "MAIV277", "the same code"),
            ("MAIV287", "MAIV186", "the sex digit and the year"),
        ];
        for (code, candidate, why) in far {
            assert!(!is_near_match(code, candidate), "{code} !~ {candidate}: {why}");
        }
        assert_eq!(near_match_keys("MAIV287"), NearMatchKeys { last_two: "87".into(), head: Some("MAIV2".into()) });
        assert_eq!(near_match_keys("MAIVX"), NearMatchKeys { last_two: "VX".into(), head: None });
        assert_eq!(near_match_keys("Ж"), NearMatchKeys { last_two: "Ж".into(), head: None });
        // Every near match found by the checks above shares one of the keys.
        for (code, candidate, _) in near {
            let keys = near_match_keys(code);
            let shares =
                candidate.ends_with(&keys.last_two) || keys.head.as_deref().is_some_and(|h| candidate.starts_with(h));
            assert!(shares, "{candidate} shares a key of {code}");
        }
    }
}
