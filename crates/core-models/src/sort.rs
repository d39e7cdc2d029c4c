//! `sort=field,-other` parsing against a domain's own enum of sortable fields.
//!
//! Each domain declares which fields it sorts on by implementing [`SortField`]; the
//! parser rejects unknown and repeated fields with a 422 that names the `sort` parameter.
//! Ties are always broken by id by the stores, so every order is total.

use crate::FieldError;

/// What kind of value a sort key holds in a cursor (checked when a cursor comes back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// An integer (timestamps in milliseconds, enum ranks).
    Int,
    /// Text that is never NULL.
    Text,
    /// Text or NULL (an optional field).
    NullableText,
}

/// A field a list can be sorted on.
pub trait SortField: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// Every accepted field, in the order error messages list them.
    const ALL: &'static [Self];

    /// The name clients use in `sort=`.
    fn name(self) -> &'static str;

    /// The kind of value this field's key has in a cursor.
    fn key_kind(self) -> KeyKind;

    /// The field of a name, if it is sortable.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }
}

/// One sort key: a field and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey<F> {
    /// What to sort on.
    pub field: F,
    /// `true` for `-field`.
    pub descending: bool,
}

/// A parsed `sort` parameter: one or more keys, most significant first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort<F> {
    keys: Vec<SortKey<F>>,
}

impl<F: SortField> Sort<F> {
    /// Parses `raw` (or `default` when the parameter is absent or blank).
    pub fn parse(raw: Option<&str>, default: &str) -> Result<Self, FieldError> {
        let spec = match raw.map(str::trim) {
            Some(s) if !s.is_empty() => s,
            _ => default,
        };
        let mut keys: Vec<SortKey<F>> = Vec::new();
        for part in spec.split(',') {
            let part = part.trim();
            let (descending, name) = match part.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, part.strip_prefix('+').unwrap_or(part)),
            };
            let field = F::from_name(name).ok_or_else(|| {
                FieldError::new("sort", format!("unknown sort field `{name}`; allowed: {}", allowed::<F>()))
            })?;
            if keys.iter().any(|k| k.field == field) {
                return Err(FieldError::new("sort", format!("field `{name}` appears twice")));
            }
            keys.push(SortKey { field, descending });
        }
        Ok(Sort { keys })
    }

    /// The keys, most significant first (the id tie-breaker is implicit).
    pub fn keys(&self) -> &[SortKey<F>] {
        &self.keys
    }

    /// The most significant key (a parsed sort has at least one).
    pub fn lead(&self) -> Option<SortKey<F>> {
        self.keys.first().copied()
    }

    /// A canonical spelling (`-created_at,title`), used to bind cursors to their sort.
    pub fn canonical(&self) -> String {
        self.keys
            .iter()
            .map(|k| format!("{}{}", if k.descending { "-" } else { "" }, k.field.name()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Direction of the id tie-breaker: follows the last key so "newest first" stays so.
    pub fn id_descending(&self) -> bool {
        self.keys.last().is_some_and(|k| k.descending)
    }

    /// The direction of every key including the id tie-breaker, for comparing cursor tuples.
    pub fn directions(&self) -> Vec<bool> {
        let mut dirs: Vec<bool> = self.keys.iter().map(|k| k.descending).collect();
        dirs.push(self.id_descending());
        dirs
    }
}

fn allowed<F: SortField>() -> String {
    F::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Field {
        Created,
        Title,
    }

    impl SortField for Field {
        const ALL: &'static [Self] = &[Field::Created, Field::Title];
        fn name(self) -> &'static str {
            match self {
                Field::Created => "created_at",
                Field::Title => "title",
            }
        }
        fn key_kind(self) -> KeyKind {
            match self {
                Field::Created => KeyKind::Int,
                Field::Title => KeyKind::NullableText,
            }
        }
    }

    #[test]
    fn parses_directions_and_defaults() {
        let s = Sort::<Field>::parse(Some("title,-created_at"), "-created_at").unwrap();
        assert_eq!(s.canonical(), "title,-created_at");
        assert_eq!(s.directions(), [false, true, true]);
        let d = Sort::<Field>::parse(None, "-created_at").unwrap();
        assert_eq!(d.keys(), &[SortKey { field: Field::Created, descending: true }]);
        assert_eq!(s.lead(), Some(SortKey { field: Field::Title, descending: false }));
        assert_eq!(Sort::<Field>::parse(Some("  "), "title").unwrap().canonical(), "title");
    }

    #[test]
    fn rejects_unknown_repeated_and_empty_fields() {
        let e = Sort::<Field>::parse(Some("colour"), "title").unwrap_err();
        assert_eq!(e.field, "sort");
        assert!(e.message.contains("`colour`") && e.message.contains("created_at, title"));
        assert!(Sort::<Field>::parse(Some("title,-title"), "title").is_err());
        assert!(Sort::<Field>::parse(Some("title,"), "title").is_err());
        assert!(Sort::<Field>::parse(Some("--title"), "title").is_err());
    }
}
