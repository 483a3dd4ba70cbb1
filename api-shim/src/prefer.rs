//! The `Prefer` header (RFC 7240) as PostgREST reads it, and the `Range` header.
//!
//! A request may carry several `Prefer` headers, each a comma-separated list of
//! `name=value`. Names and the values of known preferences are case-insensitive. The first
//! occurrence of a preference wins, as in PostgREST. Unknown preferences are collected, not
//! refused: PostgREST ignores them unless the client asked for `handling=strict`.
use crate::query_grammar::{non_negative, GrammarError};

/// What the client prefers; `None` where it said nothing (the server's default applies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    /// `return=`: what a write sends back.
    pub return_: Option<Return>,
    /// `count=`: whether and how to count the total rows.
    pub count: Option<Count>,
    /// `resolution=`: an insert's behaviour on a unique conflict (upsert).
    pub resolution: Option<Resolution>,
    /// `missing=`: what a bulk insert puts in columns a row leaves out.
    pub missing: Option<Missing>,
    /// `tx=`: how the transaction ends, where the server allows the override.
    pub tx: Option<Tx>,
    /// `handling=`: whether invalid preferences are an error.
    pub handling: Option<Handling>,
    /// `max-affected=`: with `handling=strict`, a PATCH, DELETE or function call touching (or
    /// returning) more rows than this is refused and rolled back.
    pub max_affected: Option<u64>,
    /// `timezone=`: as written; the planner checks it against the database's names.
    pub timezone: Option<String>,
    /// Every item that is not a known preference with a valid value, as written.
    pub invalid: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    Minimal,
    HeadersOnly,
    Representation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact,
    Planned,
    Estimated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    MergeDuplicates,
    IgnoreDuplicates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Default,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tx {
    Commit,
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    Strict,
    Lenient,
}

/// What a request does, for which of its preferences it honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    /// POST; `keyed`: the relation has a primary key or the request names `on_conflict=`, so a
    /// resolution applies.
    Insert {
        keyed: bool,
    },
    Update,
    Delete,
    Put,
    Call,
}

/// Every `Prefer` header of a request, parsed; never fails (see [`Preferences::invalid`]).
pub fn parse_prefer(values: &[&str]) -> Preferences {
    let mut prefs = Preferences::default();
    let items = values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|i| !i.is_empty());
    for item in items {
        if !prefs.apply(item) {
            prefs.invalid.push(item.to_string());
        }
    }
    prefs
}

impl Preferences {
    /// Records one `name=value`; false when it is not a known preference with a valid value.
    fn apply(&mut self, item: &str) -> bool {
        let (name, value) = item.split_once('=').unwrap_or((item, ""));
        let value = value.trim();
        let lower = value.to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "return" => first(&mut self.return_, return_value(&lower)),
            "count" => first(&mut self.count, count_value(&lower)),
            "resolution" => first(&mut self.resolution, resolution_value(&lower)),
            "missing" => first(&mut self.missing, missing_value(&lower)),
            "tx" => first(&mut self.tx, tx_value(&lower)),
            "handling" => first(&mut self.handling, handling_value(&lower)),
            "max-affected" => first(&mut self.max_affected, non_negative(value)),
            "timezone" => first(&mut self.timezone, (!value.is_empty()).then(|| value.to_string())),
            _ => false,
        }
    }

    /// `max-affected=n`, which PostgREST applies only with `handling=strict`.
    pub fn strict_max_affected(&self) -> Option<u64> {
        self.max_affected.filter(|_| self.handling == Some(Handling::Strict))
    }

    /// `Preference-Applied`: the preferences this request honours, in PostgREST's order; `tx=`
    /// only where the server lets a request choose how its transaction ends.
    pub fn applied(&self, action: Action, tx_overridable: bool) -> Option<String> {
        use Action::*;
        let writes = matches!(action, Insert { .. } | Update | Delete | Put);
        let counts_rows = matches!(action, Update | Delete | Call);
        let items = [
            self.resolution.filter(|_| action == Insert { keyed: true }).map(|r| match r {
                Resolution::MergeDuplicates => "resolution=merge-duplicates".to_string(),
                Resolution::IgnoreDuplicates => "resolution=ignore-duplicates".to_string(),
            }),
            self.missing.filter(|_| matches!(action, Insert { .. } | Update)).map(|m| match m {
                Missing::Default => "missing=default".to_string(),
                Missing::Null => "missing=null".to_string(),
            }),
            self.return_.filter(|_| writes).map(|r| match r {
                Return::Minimal => "return=minimal".to_string(),
                Return::HeadersOnly => "return=headers-only".to_string(),
                Return::Representation => "return=representation".to_string(),
            }),
            self.count.map(|c| match c {
                Count::Exact => "count=exact".to_string(),
                Count::Planned => "count=planned".to_string(),
                Count::Estimated => "count=estimated".to_string(),
            }),
            self.tx.filter(|_| tx_overridable).map(|t| match t {
                Tx::Commit => "tx=commit".to_string(),
                Tx::Rollback => "tx=rollback".to_string(),
            }),
            self.handling.map(|h| match h {
                Handling::Strict => "handling=strict".to_string(),
                Handling::Lenient => "handling=lenient".to_string(),
            }),
            self.strict_max_affected().filter(|_| counts_rows).map(|n| format!("max-affected={n}")),
        ];
        let applied: Vec<String> = items.into_iter().flatten().collect();
        (!applied.is_empty()).then(|| applied.join(", "))
    }

    /// With `handling=strict`, the error PostgREST answers invalid preferences with (400).
    pub fn strict_error(&self) -> Option<String> {
        let strict = self.handling == Some(Handling::Strict) && !self.invalid.is_empty();
        strict.then(|| format!("Invalid preferences given with handling=strict: {}", self.invalid.join(", ")))
    }
}

/// Fills `slot` unless an earlier occurrence did; false when the value is not valid.
fn first<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    match value {
        None => false,
        Some(v) => {
            slot.get_or_insert(v);
            true
        }
    }
}

fn return_value(v: &str) -> Option<Return> {
    match v {
        "minimal" => Some(Return::Minimal),
        "headers-only" => Some(Return::HeadersOnly),
        "representation" => Some(Return::Representation),
        _ => None,
    }
}

fn count_value(v: &str) -> Option<Count> {
    match v {
        "exact" => Some(Count::Exact),
        "planned" => Some(Count::Planned),
        "estimated" => Some(Count::Estimated),
        _ => None,
    }
}

fn resolution_value(v: &str) -> Option<Resolution> {
    match v {
        "merge-duplicates" => Some(Resolution::MergeDuplicates),
        "ignore-duplicates" => Some(Resolution::IgnoreDuplicates),
        _ => None,
    }
}

fn missing_value(v: &str) -> Option<Missing> {
    match v {
        "default" => Some(Missing::Default),
        "null" => Some(Missing::Null),
        _ => None,
    }
}

fn tx_value(v: &str) -> Option<Tx> {
    match v {
        "commit" => Some(Tx::Commit),
        "rollback" => Some(Tx::Rollback),
        _ => None,
    }
}

fn handling_value(v: &str) -> Option<Handling> {
    match v {
        "strict" => Some(Handling::Strict),
        "lenient" => Some(Handling::Lenient),
        _ => None,
    }
}

/// `Range: first-last` or `first-` (items, zero-based, inclusive), optionally `items=first-…`.
/// Returns the first item and, if given, the last.
pub fn parse_range_header(value: &str) -> Result<(u64, Option<u64>), GrammarError> {
    let fail = |why: &str| GrammarError::new(format!("failed to parse Range header ({value}): {why}"), value);
    let spec = value.trim();
    let spec = match spec.get(..6) {
        Some(unit) if unit.eq_ignore_ascii_case("items=") => spec.get(6..).unwrap_or_default(),
        _ => spec,
    };
    let (first, last) = spec.split_once('-').ok_or_else(|| fail("expected first-last or first-"))?;
    let first = non_negative(first.trim()).ok_or_else(|| fail("expected a non-negative integer before \"-\""))?;
    let last = match last.trim() {
        "" => None,
        l => Some(non_negative(l).ok_or_else(|| fail("expected a non-negative integer or nothing after \"-\""))?),
    };
    match last {
        Some(l) if l < first => Err(GrammarError::inverted_range()),
        _ => Ok((first, last)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn max_affected_applies_only_with_strict_handling() {
        let strict = |v: &[&str]| parse_prefer(v).strict_max_affected();
        assert_eq!(strict(&["handling=strict, max-affected=2"]), Some(2));
        assert_eq!(strict(&["max-affected=2", "handling=strict"]), Some(2));
        assert_eq!(strict(&["max-affected=2"]), None);
        assert_eq!(strict(&["max-affected=2, handling=lenient"]), None);
        assert_eq!(strict(&["handling=strict"]), None);
    }

    #[test]
    fn every_preference() {
        let p = parse_prefer(&[
            "return=representation, count=exact, resolution=merge-duplicates, missing=default, tx=rollback, handling=lenient, max-affected=5, timezone=America/Los_Angeles",
        ]);
        assert_eq!(
            p,
            Preferences {
                return_: Some(Return::Representation),
                count: Some(Count::Exact),
                resolution: Some(Resolution::MergeDuplicates),
                missing: Some(Missing::Default),
                tx: Some(Tx::Rollback),
                handling: Some(Handling::Lenient),
                max_affected: Some(5),
                timezone: Some("America/Los_Angeles".into()),
                invalid: vec![],
            }
        );
    }

    #[test]
    fn the_other_values() {
        let p = parse_prefer(&[
            "return=minimal,count=planned,resolution=ignore-duplicates,missing=null,tx=commit,handling=strict",
        ]);
        assert_eq!(
            (p.return_, p.count, p.resolution, p.missing, p.tx, p.handling),
            (
                Some(Return::Minimal),
                Some(Count::Planned),
                Some(Resolution::IgnoreDuplicates),
                Some(Missing::Null),
                Some(Tx::Commit),
                Some(Handling::Strict)
            )
        );
        assert_eq!(parse_prefer(&["return=headers-only", "count=estimated"]).return_, Some(Return::HeadersOnly));
        assert_eq!(parse_prefer(&["count=estimated"]).count, Some(Count::Estimated));
    }

    #[test]
    fn several_headers_case_and_whitespace() {
        let p = parse_prefer(&["  RETURN = Representation ,", " , Count=EXACT", "TimeZone= Europe/Paris "]);
        assert_eq!(p.return_, Some(Return::Representation));
        assert_eq!(p.count, Some(Count::Exact));
        assert_eq!(p.timezone, Some("Europe/Paris".into()));
        assert!(p.invalid.is_empty());
        assert_eq!(parse_prefer(&[]), Preferences::default());
        assert_eq!(parse_prefer(&["", " , ,"]), Preferences::default());
    }

    #[test]
    fn the_first_occurrence_wins() {
        let p = parse_prefer(&["tx=commit, count=exact", "tx=rollback,count=planned"]);
        assert_eq!((p.tx, p.count), (Some(Tx::Commit), Some(Count::Exact)));
        assert!(p.invalid.is_empty());
    }

    #[test]
    fn unknown_preferences_and_values_are_collected() {
        let p = parse_prefer(&["return=everything, foo, params=single-object, count=, max-affected=-1, max-affected=+2, timezone=, tx=commit"]);
        assert_eq!(
            p.invalid,
            vec![
                "return=everything",
                "foo",
                "params=single-object",
                "count=",
                "max-affected=-1",
                "max-affected=+2",
                "timezone="
            ]
        );
        assert_eq!(p.tx, Some(Tx::Commit));
        assert_eq!((p.return_, p.count, p.max_affected, p.timezone), (None, None, None, None));
    }

    #[test]
    fn strict_handling_refuses_invalid_preferences() {
        let strict = parse_prefer(&["handling=strict, foo=bar", "return=nope"]);
        assert_eq!(
            strict.strict_error(),
            Some("Invalid preferences given with handling=strict: foo=bar, return=nope".to_string())
        );
        assert_eq!(parse_prefer(&["handling=lenient, foo=bar"]).strict_error(), None);
        assert_eq!(parse_prefer(&["foo=bar"]).strict_error(), None);
        assert_eq!(parse_prefer(&["handling=strict, return=minimal"]).strict_error(), None);
    }

    #[test]
    fn max_affected_bounds() {
        assert_eq!(parse_prefer(&["max-affected=0"]).max_affected, Some(0));
        assert_eq!(parse_prefer(&["max-affected=18446744073709551615"]).max_affected, Some(u64::MAX));
        assert_eq!(
            parse_prefer(&["max-affected=18446744073709551616"]).invalid,
            vec!["max-affected=18446744073709551616"]
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range_header("0-9"), Ok((0, Some(9))));
        assert_eq!(parse_range_header("10-"), Ok((10, None)));
        assert_eq!(parse_range_header(" 3 - 3 "), Ok((3, Some(3))));
        assert_eq!(parse_range_header("items=0-24"), Ok((0, Some(24))));
        assert_eq!(parse_range_header("ITEMS=5-"), Ok((5, None)));
    }

    #[test]
    fn applied_preferences_in_postgrests_order() {
        let p = parse_prefer(&["count=exact, return=representation, resolution=merge-duplicates, tx=rollback"]);
        assert_eq!(
            p.applied(Action::Insert { keyed: true }, true).as_deref(),
            Some("resolution=merge-duplicates, return=representation, count=exact, tx=rollback")
        );
        assert_eq!(
            p.applied(Action::Insert { keyed: false }, false).as_deref(),
            Some("return=representation, count=exact")
        );
        assert_eq!(p.applied(Action::Read, false).as_deref(), Some("count=exact"));
        let strict = parse_prefer(&["handling=strict, max-affected=3"]);
        assert_eq!(strict.applied(Action::Delete, false).as_deref(), Some("handling=strict, max-affected=3"));
        assert_eq!(strict.applied(Action::Insert { keyed: true }, false).as_deref(), Some("handling=strict"));
        assert_eq!(parse_prefer(&["foo=bar"]).applied(Action::Read, true), None);
    }

    #[test]
    fn range_errors() {
        let msg = |v: &str| parse_range_header(v).unwrap_err().message().to_string();
        let inverted = parse_range_header("5-2").unwrap_err();
        assert!(inverted.is_unsatisfiable_range(), "416, as PostgREST: {inverted:?}");
        assert_eq!(msg("abc"), "failed to parse Range header (abc): expected first-last or first-");
        assert_eq!(msg("-5"), "failed to parse Range header (-5): expected a non-negative integer before \"-\"");
        assert_eq!(msg("+1-2"), "failed to parse Range header (+1-2): expected a non-negative integer before \"-\"");
        assert_eq!(
            msg("1-x"),
            "failed to parse Range header (1-x): expected a non-negative integer or nothing after \"-\""
        );
        assert_eq!(
            msg("1-2-3"),
            "failed to parse Range header (1-2-3): expected a non-negative integer or nothing after \"-\""
        );
        assert_eq!(msg(""), "failed to parse Range header (): expected first-last or first-");
        assert_eq!(
            msg("bytes=0-1"),
            "failed to parse Range header (bytes=0-1): expected a non-negative integer before \"-\""
        );
        let e = parse_range_header("abc").unwrap_err();
        assert_eq!((e.code(), e.details()), ("PGRST100", Some("abc")));
    }

    proptest! {
        #[test]
        fn parse_prefer_never_panics(a in any::<String>(), b in r"[a-zA-Z=,\- ]{0,60}") {
            let p = parse_prefer(&[&a, &b]);
            let _ = p.strict_error();
        }

        #[test]
        fn parse_range_header_never_panics(s in any::<String>(), t in r"[0-9\- itemsé=]{0,30}") {
            let _ = parse_range_header(&s);
            let _ = parse_range_header(&t);
        }

        #[test]
        fn ranges_round_trip(first in 0u64..1_000_000, len in proptest::option::of(0u64..1_000)) {
            let text = match len {
                Some(n) => format!("{first}-{}", first + n),
                None => format!("{first}-"),
            };
            prop_assert_eq!(parse_range_header(&text), Ok((first, len.map(|n| first + n))));
        }
    }
}
