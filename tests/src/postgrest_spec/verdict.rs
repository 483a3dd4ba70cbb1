//! The verdict over every case: per module, how many ran, passed, differ as known, were left
//! out; and what broke the contract with `known_differences.toml` (a case failing that is not
//! listed, or passing that is).
use super::case::Module;
use std::collections::BTreeMap;
use std::fmt::Write;

/// How one case came out.
pub enum Outcome {
    Passed,
    /// The ways it differed, and the answer in one line.
    Failed {
        mismatches: Vec<String>,
        answer: String,
    },
    Skipped,
}

#[derive(Default)]
pub struct ModuleTally {
    pub core: bool,
    pub cases: usize,
    pub passed: usize,
    pub known: usize,
    pub skipped: usize,
}

impl ModuleTally {
    fn run(&self) -> usize {
        self.cases - self.skipped
    }
}

#[derive(Default)]
pub struct Verdict {
    pub modules: BTreeMap<String, ModuleTally>,
    /// Failing and not listed: the case id, what differed, what we answered.
    pub regressions: Vec<String>,
    /// Listed but passing: the list is out of date.
    pub stale: Vec<String>,
    /// Every failure, id → one line (what `POSTGREST_SPEC_WRITE_KNOWN` writes).
    pub failures: BTreeMap<String, String>,
}

impl Verdict {
    pub fn record(&mut self, module: &Module, id: &str, outcome: Outcome, known: &BTreeMap<String, String>) {
        let tally = self.modules.entry(module.name.clone()).or_default();
        tally.core = module.core;
        tally.cases += 1;
        match outcome {
            Outcome::Skipped => tally.skipped += 1,
            Outcome::Passed if known.contains_key(id) => {
                tally.passed += 1;
                self.stale.push(id.to_string());
            }
            Outcome::Passed => tally.passed += 1,
            Outcome::Failed { mismatches, answer } => {
                let line = format!("{}; we answer {answer}", mismatches.join("; "));
                if known.contains_key(id) {
                    tally.known += 1;
                } else {
                    self.regressions.push(format!("{id}: {line}"));
                }
                self.failures.insert(id.to_string(), line);
            }
        }
    }

    /// The core modules' cases together.
    pub fn core(&self) -> ModuleTally {
        self.sum(|t| t.core)
    }

    fn sum(&self, which: impl Fn(&ModuleTally) -> bool) -> ModuleTally {
        let mut total = ModuleTally::default();
        for t in self.modules.values().filter(|t| which(t)) {
            total.cases += t.cases;
            total.passed += t.passed;
            total.known += t.known;
            total.skipped += t.skipped;
        }
        total
    }

    /// The table, as Markdown: the core modules first, then the others, each group summed.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| Module | Cases | Passed | Known differences | Left out | Pass rate |\n|---|---:|---:|---:|---:|---:|\n",
        );
        for (core, label) in [(true, "**Core**"), (false, "**Beside the core**")] {
            for (name, t) in self.modules.iter().filter(|(_, t)| t.core == core) {
                row(&mut out, name, t);
            }
            row(&mut out, label, &self.sum(|t| t.core == core));
        }
        row(&mut out, "**All**", &self.sum(|_| true));
        out
    }
}

fn row(out: &mut String, name: &str, t: &ModuleTally) {
    writeln!(out, "| {name} | {} | {} | {} | {} | {} |", t.run(), t.passed, t.known, t.skipped, rate(t)).unwrap();
}

/// `97.5%` of the cases that ran.
pub fn rate(t: &ModuleTally) -> String {
    match t.run() {
        0 => "-".into(),
        run => format!("{:.1}%", 100.0 * t.passed as f64 / run as f64),
    }
}

/// `known_differences.toml`: case id → what we answer instead.
pub fn load_known(path: &std::path::Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The list as it would be with today's failures (`POSTGREST_SPEC_WRITE_KNOWN=1`).
pub fn render_known(failures: &BTreeMap<String, String>) -> String {
    let mut out = String::from(
        "# Ported PostgREST spec cases our server answers differently today: case id -> what differs and\n\
         # what we answer instead. tests/tests/postgrest_spec.rs fails when a case not listed here fails,\n\
         # or a listed one passes. Rewrite with POSTGREST_SPEC_WRITE_KNOWN=1 after a fix, and review.\n",
    );
    // in the order of the spec: by file, then by line number
    let mut failures: Vec<_> = failures.iter().collect();
    failures.sort_by_key(|(id, _)| {
        let (file, line) = id.rsplit_once(':').unwrap_or((id.as_str(), "0"));
        (file.to_string(), line.parse::<u32>().unwrap_or(0))
    });
    for (id, line) in failures {
        let line: String = line.chars().take(240).collect();
        writeln!(out, "{} = {}", toml_string(id), toml_string(&line)).unwrap();
    }
    out
}

/// A TOML basic string (JSON's escapes are TOML's).
fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}
