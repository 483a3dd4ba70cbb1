//! "Perhaps you meant …": the closest of a set of names to a misspelled one, scored as
//! PostgREST scores it (the `fuzzyset` algorithm: cosine similarity of character trigrams, then
//! bigrams when no trigram is shared, the best 50 rescored by Levenshtein distance), so a
//! hint names what PostgREST's would.
use std::collections::HashMap;

/// The names to suggest from.
pub struct FuzzySet<'a> {
    names: Vec<&'a str>,
}

/// Counts of the `size`-character grams of `-name-`, lowercased, letters, digits, `,` and
/// spaces only, padded with `-` to at least one gram.
fn grams(name: &str, size: usize) -> HashMap<String, u32> {
    let kept: String = name.to_lowercase().chars().filter(|c| c.is_alphanumeric() || matches!(c, ',' | ' ')).collect();
    let mut padded: Vec<char> = format!("-{kept}-").chars().collect();
    while padded.len() < size {
        padded.push('-');
    }
    let mut counts = HashMap::new();
    for window in padded.windows(size) {
        *counts.entry(window.iter().collect()).or_insert(0) += 1;
    }
    counts
}

fn magnitude(counts: &HashMap<String, u32>) -> f64 {
    counts.values().map(|&n| f64::from(n * n)).sum::<f64>().sqrt()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// 1 for equal strings, 0 for nothing in common: the edit distance over the longer length.
fn similarity(a: &str, b: &str) -> f64 {
    let longest = a.chars().count().max(b.chars().count()).max(1);
    1.0 - levenshtein(a, b) as f64 / longest as f64
}

impl<'a> FuzzySet<'a> {
    pub fn new(names: impl IntoIterator<Item = &'a str>) -> Self {
        FuzzySet { names: names.into_iter().collect() }
    }

    /// The names scoring at least `min_score` against `value`, best first, with their scores.
    pub fn matches(&self, value: &str, min_score: f64) -> Vec<(f64, &'a str)> {
        let key = value.to_lowercase();
        if let Some(exact) = self.names.iter().find(|n| n.to_lowercase() == key) {
            return vec![(1.0, exact)];
        }
        (2..=3)
            .rev()
            .map(|size| self.matches_by(&key, size, min_score))
            .find(|found| !found.is_empty())
            .unwrap_or_default()
    }

    /// The best name scoring at least `min_score`.
    pub fn best(&self, value: &str, min_score: f64) -> Option<&'a str> {
        self.matches(value, min_score).first().map(|(_, name)| *name)
    }

    fn matches_by(&self, key: &str, size: usize, min_score: f64) -> Vec<(f64, &'a str)> {
        let wanted = grams(key, size);
        let mut scored: Vec<(f64, &'a str)> = self
            .names
            .iter()
            .filter_map(|name| {
                let counts = grams(name, size);
                let shared: u32 = wanted.iter().map(|(g, n)| n * counts.get(g).copied().unwrap_or(0)).sum();
                (shared > 0).then(|| (f64::from(shared) / (magnitude(&wanted) * magnitude(&counts)), *name))
            })
            .collect();
        let by_score = |a: &(f64, &str), b: &(f64, &str)| b.0.total_cmp(&a.0);
        scored.sort_by(by_score);
        scored.truncate(50);
        let mut rescored: Vec<(f64, &'a str)> =
            scored.into_iter().map(|(_, name)| (similarity(&name.to_lowercase(), key), name)).collect();
        rescored.sort_by(by_score);
        rescored.retain(|(score, _)| *score >= min_score);
        rescored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_name_above_the_threshold() {
        let tables = FuzzySet::new(["projects", "clients", "tasks", "users"]);
        assert_eq!(tables.best("projectx", 0.75), Some("projects"));
        assert_eq!(tables.best("projecxx", 0.75), Some("projects"));
        assert_eq!(tables.best("projxxxx", 0.75), None);
        assert_eq!(tables.best("Clients", 0.75), Some("clients"), "case does not matter");
        assert_eq!(FuzzySet::new([]).best("x", 0.0), None);
    }

    #[test]
    fn bigrams_when_no_trigram_is_shared() {
        assert_eq!(grams("ab", 3).into_keys().collect::<Vec<_>>().len(), 2, "-ab- has -ab and ab-");
        assert_eq!(FuzzySet::new(["ayb"]).best("axb", 0.0), Some("ayb"), "-a and b- are shared, no trigram is");
    }
}
