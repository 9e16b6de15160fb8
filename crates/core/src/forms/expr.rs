//! The XLSForm expression language: the part of XPath 1.0 that real forms write in `relevant`,
//! `constraint`, `calculation`, `required` and `choice_filter` cells. An expression is parsed once,
//! when a form is imported (so a mistake is reported with its row and column, never on a
//! worker's tablet), and evaluated on every change on the tablet and for every response on the
//! server, by this one implementation.
//!
//! Values follow XPath: text, numbers, booleans, plus dates (days since 1970-01-01, as ODK's
//! engine treats them). An unanswered question is the empty text. Comparisons convert as XPath
//! does (a boolean side makes both booleans, a number side both numbers, a date side both dates).
//! Division or `mod` by zero is an [`EvalError`], not an infinity.

use std::fmt;

/// Longest expression accepted, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 4_000;
/// Deepest nesting of parentheses, calls and operators.
pub const MAX_DEPTH: usize = 48;
/// Longest text an expression may build (`concat`), in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Largest compiled regular expression, in bytes (the `regex` crate's own measure).
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Num(f64),
    Text(String),
    /// `${name}`: the value of another question.
    Ref(String),
    /// `.`: the value of the question the expression belongs to.
    Current,
    /// A bare name: a column of the choices sheet (only in a `choice_filter`).
    Column(String),
    Neg(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

/// Binary operators, lowest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// The functions a form may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    Not,
    True,
    False,
    Boolean,
    Number,
    String,
    Int,
    Round,
    Floor,
    Ceiling,
    Abs,
    If,
    Coalesce,
    Concat,
    Contains,
    StartsWith,
    EndsWith,
    Substr,
    StringLength,
    Selected,
    CountSelected,
    Regex,
    Today,
    ChoiceName,
}

impl Func {
    /// The function of an XLSForm name, with the number of arguments it takes (least, most).
    fn lookup(name: &str) -> Option<(Func, usize, usize)> {
        Some(match name {
            "not" => (Func::Not, 1, 1),
            "true" => (Func::True, 0, 0),
            "false" => (Func::False, 0, 0),
            "boolean" => (Func::Boolean, 1, 1),
            "number" => (Func::Number, 1, 1),
            "string" => (Func::String, 1, 1),
            "int" => (Func::Int, 1, 1),
            "round" => (Func::Round, 1, 2),
            "floor" => (Func::Floor, 1, 1),
            "ceiling" => (Func::Ceiling, 1, 1),
            "abs" => (Func::Abs, 1, 1),
            "if" => (Func::If, 3, 3),
            "coalesce" => (Func::Coalesce, 2, 2),
            "concat" => (Func::Concat, 1, 64),
            "contains" => (Func::Contains, 2, 2),
            "starts-with" => (Func::StartsWith, 2, 2),
            "ends-with" => (Func::EndsWith, 2, 2),
            "substr" => (Func::Substr, 2, 3),
            "string-length" => (Func::StringLength, 1, 1),
            "selected" => (Func::Selected, 2, 2),
            "count-selected" => (Func::CountSelected, 1, 1),
            "regex" => (Func::Regex, 2, 2),
            "today" => (Func::Today, 0, 0),
            "jr:choice-name" => (Func::ChoiceName, 2, 2),
            _ => return None,
        })
    }

    /// Functions real forms use that Outpost cannot evaluate, with the reason given at import.
    fn refused(name: &str) -> Option<&'static str> {
        Some(match name {
            "now" | "decimal-date-time" | "decimal-time" | "format-date-time" => {
                "Outpost forms have dates, not times of day"
            }
            "format-date" | "date" | "decimal-date" => "date conversions are not supported; compare dates directly",
            "position" | "indexed-repeat" | "count" | "sum" | "max" | "min" => {
                "repeats are not supported, so functions over repeated answers are not either"
            }
            "instance" | "pulldata" | "current" => "Outpost forms cannot read other data sets",
            "random" | "randomize" | "uuid" | "once" | "digest" | "base64-decode" => {
                "the function's result would differ on every device"
            }
            "area" | "distance" => "location questions are not supported",
            "version" | "property" => "device properties are not available to forms",
            _ => return None,
        })
    }
}

/// Where an expression stands, which decides what it may refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// `relevant`, `required`, `calculation`, `default`, or `${...}` in a label: no `.`.
    Plain,
    /// `constraint` (and `read_only`): `.` is the question's own answer.
    OwnAnswer,
    /// `choice_filter`: bare names are columns of the choices sheet.
    ChoiceFilter,
}

/// Why an expression was refused at import; `at` is the character position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Num(f64),
    Text(String),
    Ref(String),
    Dot,
    Name(String),
    Open,
    Close,
    Comma,
    Sym(&'static str),
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn tokens(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, message: String| Err(ParseError { at, message });
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            match digits.parse::<f64>() {
                Ok(n) => Token::Num(n),
                Err(_) => return err(start, format!("{digits} is not a number")),
            }
        } else if c == '\'' || c == '"' {
            let Some(len) = chars[i + 1..].iter().position(|&q| q == c) else {
                return err(start, "a text is not closed with its quote".into());
            };
            let text: String = chars[i + 1..i + 1 + len].iter().collect();
            i += len + 2;
            Token::Text(text)
        } else if c == '$' {
            if chars.get(i + 1) != Some(&'{') {
                return err(start, "write a reference to a question as ${name}".into());
            }
            let Some(len) = chars[i + 2..].iter().position(|&q| q == '}') else {
                return err(start, "a ${ reference is not closed with }".into());
            };
            let name: String = chars[i + 2..i + 2 + len].iter().collect();
            let name = name.trim().to_string();
            if !valid_name(&name) {
                return err(start, format!("${{{name}}} is not a question name"));
            }
            i += len + 3;
            Token::Ref(name)
        } else if is_name_start(c) {
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            Token::Name(chars[start..i].iter().collect())
        } else {
            i += 1;
            match (c, chars.get(i)) {
                ('(', _) => Token::Open,
                (')', _) => Token::Close,
                (',', _) => Token::Comma,
                ('.', Some('.')) => return err(start, "`..` (the parent) is not supported; use ${name}".into()),
                ('.', _) => Token::Dot,
                ('!', Some('=')) => {
                    i += 1;
                    Token::Sym("!=")
                }
                ('<', Some('=')) => {
                    i += 1;
                    Token::Sym("<=")
                }
                ('>', Some('=')) => {
                    i += 1;
                    Token::Sym(">=")
                }
                ('=', _) => Token::Sym("="),
                ('<', _) => Token::Sym("<"),
                ('>', _) => Token::Sym(">"),
                ('+', _) => Token::Sym("+"),
                ('-', _) => Token::Sym("-"),
                ('*', _) => Token::Sym("*"),
                ('/', _) => return err(start, "paths such as /data/q are not supported; use ${name}".into()),
                ('|', _) => return err(start, "`|` (node-set union) is not supported".into()),
                ('[', _) | (']', _) => return err(start, "predicates in [ ] are not supported".into()),
                _ => return err(start, format!("unexpected character {c:?}")),
            }
        };
        out.push((start, token));
    }
    Ok(out)
}

/// Whether `name` can name a question or a group (an XML name without a colon).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start)
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name.chars().count() <= 64
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
    place: Place,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(at, _)| *at)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError { at: self.at(), message: message.into() })
    }

    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("the expression is nested more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }

    /// The binary operator at the cursor, if it is one of `ops`.
    fn operator(&self, ops: &[(&str, Op)]) -> Option<Op> {
        let word = match self.peek()? {
            Token::Sym(s) => *s,
            Token::Name(n) => n.as_str(),
            _ => return None,
        };
        ops.iter().find(|(w, _)| *w == word).map(|(_, op)| *op)
    }

    fn binary(&mut self, level: usize) -> Result<Expr, ParseError> {
        const LEVELS: [&[(&str, Op)]; 6] = [
            &[("or", Op::Or)],
            &[("and", Op::And)],
            &[("=", Op::Eq), ("!=", Op::Ne)],
            &[("<", Op::Lt), ("<=", Op::Le), (">", Op::Gt), (">=", Op::Ge)],
            &[("+", Op::Add), ("-", Op::Sub)],
            &[("*", Op::Mul), ("div", Op::Div), ("mod", Op::Mod)],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        self.deeper()?;
        let mut left = self.binary(level + 1)?;
        while let Some(op) = self.operator(LEVELS[level]) {
            self.next += 1;
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Token::Sym("-")) {
            self.next += 1;
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some((at, token)) = self.tokens.get(self.next).cloned() else {
            return self.fail("the expression ends too early");
        };
        self.next += 1;
        match token {
            Token::Num(n) => Ok(Expr::Num(n)),
            Token::Text(t) => Ok(Expr::Text(t)),
            Token::Ref(name) => Ok(Expr::Ref(name)),
            Token::Dot if self.place == Place::Plain => {
                Err(ParseError { at, message: "`.` (this question's answer) can only be used in a constraint".into() })
            }
            Token::Dot => Ok(Expr::Current),
            Token::Open => {
                self.deeper()?;
                let inner = self.binary(0)?;
                self.depth -= 1;
                if self.peek() != Some(&Token::Close) {
                    return self.fail("a ( is not closed with )");
                }
                self.next += 1;
                Ok(inner)
            }
            Token::Name(name) if self.peek() == Some(&Token::Open) => self.call(at, &name),
            Token::Name(name) if self.place == Place::ChoiceFilter => Ok(Expr::Column(name)),
            Token::Name(name) => Err(ParseError {
                at,
                message: format!("`{name}` is not a value: write ${{{name}}} for a question, '{name}' for a text"),
            }),
            other => Err(ParseError { at, message: format!("unexpected {}", describe(&other)) }),
        }
    }

    fn call(&mut self, at: usize, name: &str) -> Result<Expr, ParseError> {
        let Some((func, least, most)) = Func::lookup(name) else {
            let message = match Func::refused(name) {
                Some(why) => format!("the function {name}() is not supported: {why}"),
                None => format!("{name}() is not a function Outpost knows"),
            };
            return Err(ParseError { at, message });
        };
        self.next += 1; // the (
        self.deeper()?;
        let mut args = Vec::new();
        if self.peek() == Some(&Token::Close) {
            self.next += 1;
        } else {
            loop {
                args.push(self.binary(0)?);
                match self.peek() {
                    Some(Token::Comma) => self.next += 1,
                    Some(Token::Close) => {
                        self.next += 1;
                        break;
                    }
                    _ => return self.fail(format!("{name}( is not closed with )")),
                }
            }
        }
        self.depth -= 1;
        if args.len() < least || args.len() > most {
            let wanted = if least == most { least.to_string() } else { format!("{least} to {most}") };
            return Err(ParseError { at, message: format!("{name}() takes {wanted} arguments, not {}", args.len()) });
        }
        if func == Func::Regex
            && let Expr::Text(pattern) = &args[1]
        {
            compile_regex(pattern).map_err(|message| ParseError { at, message })?;
        }
        if func == Func::ChoiceName && !matches!(&args[1], Expr::Text(t) if reference_in_text(t).is_some()) {
            return Err(ParseError {
                at,
                message: "jr:choice-name() takes the question as its second argument in quotes: '${name}'".into(),
            });
        }
        Ok(Expr::Call(func, args))
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Num(n) => format!("number {n}"),
        Token::Text(t) => format!("text '{t}'"),
        Token::Ref(r) => format!("${{{r}}}"),
        Token::Dot => "`.`".into(),
        Token::Name(n) => format!("`{n}`"),
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Comma => "`,`".into(),
        Token::Sym(s) => format!("`{s}`"),
    }
}

/// The question named by a text of the form `${name}` (jr:choice-name's second argument).
fn reference_in_text(text: &str) -> Option<&str> {
    let name = text.trim().strip_prefix("${")?.strip_suffix('}')?.trim();
    valid_name(name).then_some(name)
}

fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("the regular expression {pattern:?} is not valid: {}", first_line(&e.to_string())))
}

fn first_line(text: &str) -> String {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(text).trim().to_string()
}

/// Parses an expression written at `place`.
pub fn parse(text: &str, place: Place) -> Result<Expr, ParseError> {
    if text.chars().count() > MAX_EXPRESSION_CHARS {
        return Err(ParseError {
            at: 0,
            message: format!("an expression has at most {MAX_EXPRESSION_CHARS} characters"),
        });
    }
    let tokens = tokens(text)?;
    if tokens.is_empty() {
        return Err(ParseError { at: 0, message: "the expression is empty".into() });
    }
    let end = text.chars().count();
    let mut parser = Parser { tokens, next: 0, end, place, depth: 0 };
    let expr = parser.binary(0)?;
    if let Some(token) = parser.peek() {
        let what = describe(token);
        return parser.fail(format!("unexpected {what}: is an operator or a comma missing?"));
    }
    Ok(expr)
}

impl Expr {
    /// The questions the expression refers to with `${...}` (and through jr:choice-name).
    pub fn references(&self, out: &mut Vec<String>) {
        match self {
            Expr::Ref(name) => out.push(name.clone()),
            Expr::Neg(e) => e.references(out),
            Expr::Binary(_, a, b) => {
                a.references(out);
                b.references(out);
            }
            Expr::Call(func, args) => {
                for (i, a) in args.iter().enumerate() {
                    match (func, i, a) {
                        (Func::ChoiceName, 1, Expr::Text(t)) => out.extend(reference_in_text(t).map(str::to_string)),
                        _ => a.references(out),
                    }
                }
            }
            Expr::Num(_) | Expr::Text(_) | Expr::Current | Expr::Column(_) => {}
        }
    }

    /// The choices-sheet columns a `choice_filter` reads.
    pub fn columns(&self, out: &mut Vec<String>) {
        match self {
            Expr::Column(name) => out.push(name.clone()),
            Expr::Neg(e) => e.columns(out),
            Expr::Binary(_, a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.columns(out)),
            _ => {}
        }
    }
}

/// A value of the expression language.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Num(f64),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i64),
}

impl Value {
    pub fn empty() -> Value {
        Value::Text(String::new())
    }

    pub fn truthy(&self) -> bool {
        match self {
            Value::Text(t) => !t.is_empty(),
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Bool(b) => *b,
            Value::Date(_) => true,
        }
    }

    pub fn number(&self) -> f64 {
        match self {
            Value::Text(t) => {
                let t = t.trim();
                if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-')) {
                    f64::NAN
                } else {
                    t.parse().unwrap_or(f64::NAN)
                }
            }
            Value::Num(n) => *n,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Date(d) => *d as f64,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Num(n) => number_text(*n),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => date_text(*d),
        }
    }

    /// The value as a date, when it is one or a text of the form YYYY-MM-DD.
    pub fn date(&self) -> Option<i64> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Text(t) => parse_date(t),
            _ => None,
        }
    }
}

/// A number as XPath writes it: whole numbers without a decimal point, `NaN`, `Infinity`.
pub fn number_text(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else if n == n.trunc() && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

const UNIX_JULIAN_DAY: i64 = 2_440_588;

/// Days since 1970-01-01 of a `YYYY-MM-DD` text.
pub fn parse_date(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text.trim(), &format).ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_JULIAN_DAY)
}

/// `YYYY-MM-DD` of days since 1970-01-01.
pub fn date_text(days: i64) -> String {
    i32::try_from(days + UNIX_JULIAN_DAY)
        .ok()
        .and_then(|jd| time::Date::from_julian_day(jd).ok())
        .map_or_else(String::new, |d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
}

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("division by zero")]
    DivisionByZero,
    #[error("{0}")]
    BadRegex(String),
    #[error("the text would be longer than {MAX_TEXT_CHARS} characters")]
    TooLong,
}

/// What an expression reads while it is evaluated.
pub trait Scope {
    /// The value of question `name` (empty when unanswered or not relevant).
    fn value(&self, name: &str) -> Value;
    /// The value `.` stands for.
    fn current(&self) -> Value;
    /// A column of the choice being filtered.
    fn column(&self, name: &str) -> Value;
    /// Today, in days since 1970-01-01.
    fn today(&self) -> i64;
    /// The label of choice `value` of question `question`, in the reader's language.
    fn choice_label(&self, question: &str, value: &str) -> Option<String>;
}

fn compare(op: Op, a: &Value, b: &Value) -> bool {
    use Value::{Bool, Date, Num};
    let ordered = |x: f64, y: f64| match op {
        Op::Eq => x == y,
        Op::Ne => x != y,
        Op::Lt => x < y,
        Op::Le => x <= y,
        Op::Gt => x > y,
        Op::Ge => x >= y,
        _ => false,
    };
    match (a, b) {
        (Bool(_), _) | (_, Bool(_)) if matches!(op, Op::Eq | Op::Ne) => (a.truthy() == b.truthy()) == (op == Op::Eq),
        (Date(_), _) | (_, Date(_)) => match (a.date(), b.date()) {
            (Some(x), Some(y)) => ordered(x as f64, y as f64),
            _ => op == Op::Ne,
        },
        (Num(_), _) | (_, Num(_)) => ordered(a.number(), b.number()),
        _ if matches!(op, Op::Eq | Op::Ne) => (a.text() == b.text()) == (op == Op::Eq),
        _ => ordered(a.number(), b.number()),
    }
}

/// The space-separated choices of a select-multiple answer.
fn chosen(value: &Value) -> Vec<String> {
    value.text().split_whitespace().map(str::to_string).collect()
}

impl Expr {
    /// Evaluates the expression in `scope`.
    pub fn eval(&self, scope: &dyn Scope) -> Result<Value, EvalError> {
        Ok(match self {
            Expr::Num(n) => Value::Num(*n),
            Expr::Text(t) => Value::Text(t.clone()),
            Expr::Ref(name) => scope.value(name),
            Expr::Current => scope.current(),
            Expr::Column(name) => scope.column(name),
            Expr::Neg(e) => Value::Num(-e.eval(scope)?.number()),
            Expr::Binary(Op::Or, a, b) => Value::Bool(a.eval(scope)?.truthy() || b.eval(scope)?.truthy()),
            Expr::Binary(Op::And, a, b) => Value::Bool(a.eval(scope)?.truthy() && b.eval(scope)?.truthy()),
            Expr::Binary(op @ (Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge), a, b) => {
                Value::Bool(compare(*op, &a.eval(scope)?, &b.eval(scope)?))
            }
            Expr::Binary(op, a, b) => {
                let (x, y) = (a.eval(scope)?.number(), b.eval(scope)?.number());
                Value::Num(match op {
                    Op::Add => x + y,
                    Op::Sub => x - y,
                    Op::Mul => x * y,
                    Op::Div if y == 0.0 => return Err(EvalError::DivisionByZero),
                    Op::Div => x / y,
                    Op::Mod if y == 0.0 => return Err(EvalError::DivisionByZero),
                    _ => x % y,
                })
            }
            Expr::Call(func, args) => call(*func, args, scope)?,
        })
    }
}

fn call(func: Func, args: &[Expr], scope: &dyn Scope) -> Result<Value, EvalError> {
    let arg = |i: usize| -> Result<Value, EvalError> { args.get(i).map_or(Ok(Value::empty()), |a| a.eval(scope)) };
    let text = |i: usize| -> Result<String, EvalError> { Ok(arg(i)?.text()) };
    let number = |i: usize| -> Result<f64, EvalError> { Ok(arg(i)?.number()) };
    Ok(match func {
        Func::Not => Value::Bool(!arg(0)?.truthy()),
        Func::True => Value::Bool(true),
        Func::False => Value::Bool(false),
        Func::Boolean => Value::Bool(arg(0)?.truthy()),
        Func::Number => Value::Num(arg(0)?.number()),
        Func::String => Value::Text(text(0)?),
        Func::Int => Value::Num(number(0)?.trunc()),
        Func::Round => {
            let places = if args.len() > 1 { number(1)?.trunc() } else { 0.0 };
            let scale = 10f64.powf(places.clamp(-15.0, 15.0));
            Value::Num((number(0)? * scale).round() / scale)
        }
        Func::Floor => Value::Num(number(0)?.floor()),
        Func::Ceiling => Value::Num(number(0)?.ceil()),
        Func::Abs => Value::Num(number(0)?.abs()),
        Func::If => {
            if arg(0)?.truthy() {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        Func::Coalesce => {
            let first = arg(0)?;
            if first.text().is_empty() { arg(1)? } else { first }
        }
        Func::Concat => {
            let mut out = String::new();
            for i in 0..args.len() {
                out.push_str(&text(i)?);
                if out.chars().count() > MAX_TEXT_CHARS {
                    return Err(EvalError::TooLong);
                }
            }
            Value::Text(out)
        }
        Func::Contains => Value::Bool(text(0)?.contains(&text(1)?)),
        Func::StartsWith => Value::Bool(text(0)?.starts_with(&text(1)?)),
        Func::EndsWith => Value::Bool(text(0)?.ends_with(&text(1)?)),
        Func::Substr => {
            // XPath's substring positions start at 1; ODK's substr starts at 0 and ends before `end`.
            let chars: Vec<char> = text(0)?.chars().collect();
            let len = chars.len() as f64;
            let start = number(1)?.clamp(0.0, len) as usize;
            let end = if args.len() > 2 { number(2)?.clamp(0.0, len) as usize } else { chars.len() };
            Value::Text(chars.get(start..end.max(start)).map(|c| c.iter().collect()).unwrap_or_default())
        }
        Func::StringLength => Value::Num(text(0)?.chars().count() as f64),
        Func::Selected => {
            let wanted = text(1)?;
            Value::Bool(chosen(&arg(0)?).iter().any(|c| *c == wanted.trim()))
        }
        Func::CountSelected => Value::Num(chosen(&arg(0)?).len() as f64),
        Func::Regex => {
            let pattern = text(1)?;
            let re = compile_regex(&pattern).map_err(EvalError::BadRegex)?;
            Value::Bool(re.is_match(&text(0)?))
        }
        Func::Today => Value::Date(scope.today()),
        Func::ChoiceName => {
            let value = text(0)?;
            let question = match args.get(1) {
                Some(Expr::Text(t)) => reference_in_text(t).unwrap_or_default().to_string(),
                _ => String::new(),
            };
            Value::Text(scope.choice_label(&question, value.trim()).unwrap_or_default())
        }
    })
}

#[cfg(test)]
#[path = "expr_tests.rs"]
mod tests;
