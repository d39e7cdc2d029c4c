//! Full-text search: turns what a user typed into a safe, bounded FTS5 query.
//!
//! User text is never passed to `MATCH` as is (FTS5 syntax errors would surface as 500s
//! and operators would surprise users). Each word becomes a quoted term, and all terms
//! must match: `grocery  list!` → `"grocery"* "list"*`.
//!
//! The cost of a query is bounded before it reaches SQLite:
//!
//! - at most [`MAX_TERMS`] words: every term is one more doclist to load and intersect,
//!   and a few hundred of them cost seconds; a longer `q` is refused (422 naming `q`),
//!   never silently cut;
//! - a word shorter than [`MIN_PREFIX_CHARS`] is an exact word, not a prefix: `a*` would
//!   expand to every indexed word starting with `a` (a large share of the vocabulary), so
//!   `q=a` finds the word "a" only, while `q=gr` still finds "groceries".

use core_models::FieldError;

/// The most words one search may hold.
pub const MAX_TERMS: usize = 16;

/// The shortest word that is searched as a prefix; shorter words match whole words only.
pub const MIN_PREFIX_CHARS: usize = 2;

/// The words of a text, lower-cased: runs of letters and digits. Unbounded: this also
/// tokenises stored text (the in-memory stores); user input goes through [`parse_query`].
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The words of the search text `q` of parameter `field`, checked against [`MAX_TERMS`]:
/// a 422 naming `field` and the limit when there are more.
pub fn parse_query(field: &str, q: &str) -> Result<Vec<String>, FieldError> {
    let terms = search_terms(q);
    if terms.len() > MAX_TERMS {
        return Err(FieldError::new(
            field,
            format!("must have at most {MAX_TERMS} words to search for (has {})", terms.len()),
        ));
    }
    Ok(terms)
}

/// Whether `term` is a prefix search (long enough) rather than an exact word.
pub fn is_prefix_term(term: &str) -> bool {
    term.chars().nth(MIN_PREFIX_CHARS - 1).is_some()
}

/// Whether the search term `term` matches the indexed word `word`, as the FTS5 expression
/// of [`fts_match_expr`] does (for stores that search without FTS5).
pub fn term_matches(term: &str, word: &str) -> bool {
    if is_prefix_term(term) {
        word.starts_with(term)
    } else {
        word == term
    }
}

/// The FTS5 `MATCH` expression for `terms`, or `None` when there is nothing to search for.
pub fn fts_match_expr(terms: &[String]) -> Option<String> {
    if terms.is_empty() {
        return None;
    }
    // Terms hold only letters and digits, so quoting cannot be broken out of.
    let quoted = terms.iter().map(|t| if is_prefix_term(t) { format!("\"{t}\"*") } else { format!("\"{t}\"") });
    Some(quoted.collect::<Vec<_>>().join(" "))
}

/// The filter "this row's text matches `expr`" for a table whose FTS5 index `fts` is keyed
/// by the table's `seq` (e.g. `tasks.seq`, `tasks_fts`), with the read budget checked per
/// row both while collecting the matches and while walking the table (see
/// [`crate::budget`]). With `lead` the match set may drive the plan (a selective search
/// sorts its few matches); without it the `seq` test is kept off the indexes (a unary
/// `+`), so the sort index drives and each row it visits is probed against the matches.
pub fn matching(seq: &'static str, fts: &'static str, expr: String, lead: bool) -> crate::sql::Sql {
    let budget = crate::budget::WITHIN_BUDGET;
    let plus = if lead { "" } else { "+" };
    crate::sql::sql(format!("({plus}{seq} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH "))
        .bind_text(expr)
        .sql(format!(" AND {budget}(rowid)) AND {budget}({seq}))"))
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

    #[test]
    fn one_letter_words_are_exact_terms() {
        let terms = search_terms("a gr É");
        assert_eq!(fts_match_expr(&terms).unwrap(), "\"a\" \"gr\"* \"é\"");
        assert!(term_matches("a", "a") && !term_matches("a", "apple"));
        assert!(term_matches("gr", "groceries") && !term_matches("gr", "g"));
    }

    #[test]
    fn queries_are_capped_in_words_not_truncated() {
        let most = vec!["w"; MAX_TERMS].join(" ");
        assert_eq!(parse_query("q", &most).unwrap().len(), MAX_TERMS);
        let worst = vec!["a"; 240].join(" ");
        let err = parse_query("q", &worst).unwrap_err();
        assert_eq!(err.field, "q");
        assert!(err.message.contains("at most 16 words"), "{}", err.message);
    }
}
