//! Full-text search: turns what a user typed into a safe FTS5 query.
//!
//! User text is never passed to `MATCH` as is (FTS5 syntax errors would surface as 500s
//! and operators would surprise users). Each word becomes a quoted prefix term, and all
//! terms must match: `grocery  list!` → `"grocery"* "list"*`.

/// The words of a search string, lower-cased: runs of letters and digits.
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The FTS5 `MATCH` expression for `terms`, or `None` when there is nothing to search for.
pub fn fts_match_expr(terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    // Terms hold only letters and digits, so quoting cannot be broken out of.
    Some(terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_drop_operators_and_punctuation() {
        assert_eq!(search_terms("Grocery  list! \"NEAR\" OR *"), ["grocery", "list", "near", "or"]);
        assert!(search_terms(" ?! ").is_empty());
    }

    #[test]
    fn match_expression_quotes_every_term() {
        let terms = search_terms("milk eggs");
        assert_eq!(fts_match_expr(&terms).unwrap(), "\"milk\"* \"eggs\"*");
        assert_eq!(fts_match_expr(&[]), None);
    }
}
