//! Inputs for the fuzz tests of the parsers (`api-shim/tests/fuzz_grammar.rs`,
//! `cli/tests/fuzz_lint_parser.rs`): valid inputs (seeds) mutated as a fuzzer mutates them —
//! bits flipped, bytes inserted and cut, chunks repeated, tokens of the language dropped in,
//! two seeds spliced, the end cut off — and arbitrary text. They are proptest strategies, so a
//! failing input shrinks to the seed and the fewest mutations that still fail, and
//! `PROPTEST_CASES` sets how many run (256 in a normal test run, millions from bench/fuzz.sh).
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One edit of the input's bytes; positions are fractions of its current length.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: Index,
        bit: u8,
    },
    Insert {
        at: Index,
        byte: u8,
    },
    Delete {
        at: Index,
        len: usize,
    },
    /// The bytes at `at` written `times` more times: deep nesting, long lists.
    Repeat {
        at: Index,
        len: usize,
        times: usize,
    },
    Token {
        at: Index,
        token: Index,
    },
    /// A piece of another seed, so the input mixes two valid ones.
    Splice {
        at: Index,
        seed: Index,
        from: Index,
        len: usize,
    },
    Truncate {
        at: Index,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        1 => (any::<Index>(), 1..16usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<Index>(), 1..16usize, 1..64usize).prop_map(|(at, len, times)| Mutation::Repeat { at, len, times }),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Token { at, token }),
        1 => (any::<Index>(), any::<Index>(), any::<Index>(), 1..64usize)
            .prop_map(|(at, seed, from, len)| Mutation::Splice { at, seed, from, len }),
        1 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// Where `at` falls in `bytes`, ends included (an insertion may go at the very end).
fn position(at: &Index, bytes: &[u8]) -> usize {
    at.index(bytes.len() + 1)
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation, seeds: &[String], tokens: &[String]) {
    let at = |i: &Index, bytes: &Vec<u8>| position(i, bytes);
    match mutation {
        Mutation::FlipBit { at: i, bit } if !bytes.is_empty() => {
            let p = i.index(bytes.len());
            bytes[p] ^= 1 << bit;
        }
        Mutation::FlipBit { .. } => {}
        Mutation::Insert { at: i, byte } => bytes.insert(at(i, bytes), *byte),
        Mutation::Delete { at: i, len } => {
            let p = at(i, bytes);
            bytes.drain(p..(p + len).min(bytes.len()));
        }
        Mutation::Repeat { at: i, len, times } => {
            let p = at(i, bytes);
            let chunk = bytes[p..(p + len).min(bytes.len())].to_vec();
            bytes.splice(p..p, chunk.repeat(*times));
        }
        Mutation::Token { at: i, token } => {
            let p = at(i, bytes);
            bytes.splice(p..p, tokens[token.index(tokens.len())].bytes());
        }
        Mutation::Splice { at: i, seed, from, len } => {
            let other = seeds[seed.index(seeds.len())].as_bytes();
            let start = position(from, other);
            let p = at(i, bytes);
            bytes.splice(p..p, other[start..(start + len).min(other.len())].iter().copied());
        }
        Mutation::Truncate { at: i } => bytes.truncate(at(i, bytes)),
    }
}

/// Mostly seeds with up to 8 mutations, sometimes arbitrary text. Bytes that are not UTF-8
/// become U+FFFD: the parsers take `&str`.
pub fn inputs(seeds: Vec<String>, tokens: Vec<String>) -> impl Strategy<Value = String> {
    assert!(!seeds.is_empty() && !tokens.is_empty());
    let seeds = Arc::new(seeds);
    let mutated = (any::<Index>(), prop::collection::vec(mutation(), 0..8)).prop_map(move |(seed, mutations)| {
        let mut bytes = seeds[seed.index(seeds.len())].clone().into_bytes();
        for m in &mutations {
            apply(&mut bytes, m, &seeds, &tokens);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    });
    prop_oneof![
        8 => mutated,
        1 => any::<String>(),
        1 => prop::collection::vec(any::<u8>(), 0..256).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Runs `target` on `PROPTEST_CASES` inputs (proptest catches a panic, shrinks the input and
/// fails the test with it, and keeps its seed in `regressions` to try first next time) and
/// prints how many ran, how fast, and the slowest input's time: a parser that goes quadratic
/// shows there before it hangs.
pub fn run<S: Strategy>(name: &str, regressions: &'static str, inputs: S, target: impl Fn(&S::Value))
where
    S::Value: std::fmt::Debug,
{
    let persistence = FileFailurePersistence::Direct(regressions);
    let config = Config { failure_persistence: Some(Box::new(persistence)), ..Config::default() };
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let slowest = Cell::new(Duration::ZERO);
    let started = Instant::now();
    let result = runner.run(&inputs, |input| {
        let t = Instant::now();
        target(&input);
        slowest.set(slowest.get().max(t.elapsed()));
        Ok::<(), TestCaseError>(())
    });
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "fuzz {name}: {cases} inputs in {elapsed:.1} s ({:.0}/s), slowest {} µs",
        f64::from(cases) / elapsed,
        slowest.get().as_micros()
    );
    if let Err(e) = result {
        panic!("fuzz {name}: {e}");
    }
}
