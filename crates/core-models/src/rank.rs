//! Enumerations with a natural order (task status, difficulty, priority, role), declared
//! once with [`rank_enum!`](crate::rank_enum): the wire names, the integer rank the
//! database stores and sorts by, parsing with errors that list the allowed values, comma
//! lists, serde and the OpenAPI schema all come from that one declaration.
//!
//! ```
//! core_models::rank_enum! {
//!     /// How hard a challenge is.
//!     pub enum Difficulty as "difficulty" {
//!         /// First steps.
//!         Beginner = 0 => "beginner",
//!         /// Needs practice.
//!         Advanced = 2 => "advanced",
//!     }
//! }
//! use core_models::rank::RankEnum;
//!
//! assert_eq!(Difficulty::parse("difficulty", "advanced"), Ok(Difficulty::Advanced));
//! assert_eq!(Difficulty::Advanced.rank(), 2);
//! assert_eq!(Difficulty::parse_list("difficulty", "advanced,beginner,advanced").unwrap(),
//!            [Difficulty::Beginner, Difficulty::Advanced]);
//! let err = Difficulty::parse("difficulty", "easy").unwrap_err();
//! assert_eq!(err.message, "unknown difficulty `easy`; allowed: beginner, advanced");
//! assert_eq!(serde_json::to_string(&Difficulty::Beginner).unwrap(), "\"beginner\"");
//! ```

use crate::FieldError;

/// An enumeration ordered by rank; implemented by [`rank_enum!`](crate::rank_enum).
pub trait RankEnum: Copy + Eq + Ord + std::fmt::Debug + Send + Sync + 'static {
    /// Every value, in rank order.
    const ALL: &'static [Self];
    /// What the values are called in messages (`status`, `difficulty`).
    const WHAT: &'static str;

    /// The name on the wire.
    fn name(self) -> &'static str;

    /// The position in the natural order, as stored in the database.
    fn rank(self) -> i32;

    /// The value of a stored rank.
    fn from_rank(rank: i32) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.rank() == rank)
    }

    /// The value of a wire name (exact, case-sensitive).
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }

    /// The allowed names, comma-separated, for messages.
    fn allowed() -> String {
        Self::ALL.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
    }

    /// Parses one wire name (trimmed); the error names `field` and lists the allowed values.
    fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        Self::from_name(raw).ok_or_else(|| {
            FieldError::new(field, format!("unknown {} `{raw}`; allowed: {}", Self::WHAT, Self::allowed()))
        })
    }

    /// Parses a comma list (`pending,in_progress`) into values in rank order without
    /// repeats. Blank items are refused: `status=` or `status=a,` is a client bug.
    fn parse_list(field: &str, raw: &str) -> Result<Vec<Self>, FieldError> {
        let mut values = crate::params::comma_list(field, raw, |item| Self::parse(field, item))?;
        values.sort();
        values.dedup();
        Ok(values)
    }
}

/// Declares a [`RankEnum`]: `Variant = rank => "wire_name"` per value, in rank order.
/// (The wire name is taken as a plain token, not a `literal` fragment: utoipa reads the
/// `serde(rename)` it ends up in only when it is a bare string literal, and the OpenAPI
/// enum must list the wire names.)
///
/// The crate using it needs `serde` and `utoipa` among its dependencies (the derives
/// expand there).
#[macro_export]
macro_rules! rank_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $rank:literal => $wire:tt ),+ $(,)?
        }
    ) => {
        // The derives first, so `$meta` may hold their helper attributes (`#[schema(as = ...)]`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
                 ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema)]
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant ),+
        }

        impl $crate::rank::RankEnum for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const WHAT: &'static str = $what;

            fn name(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            fn rank(self) -> i32 {
                match self { $($name::$variant => $rank),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::rank::RankEnum::name(*self))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::RankEnum;

    crate::rank_enum! {
        /// For the tests.
        enum Priority as "priority" {
            /// low
            Low = 0 => "low",
            /// medium
            Medium = 1 => "medium",
            /// urgent
            Urgent = 3 => "urgent",
        }
    }

    #[test]
    fn ranks_names_and_order_agree() {
        assert_eq!(Priority::ALL, [Priority::Low, Priority::Medium, Priority::Urgent]);
        for (i, p) in Priority::ALL.iter().enumerate() {
            assert_eq!(Priority::from_rank(p.rank()), Some(*p));
            assert_eq!(Priority::from_name(p.name()), Some(*p));
            if i > 0 {
                assert!(Priority::ALL[i - 1].rank() < p.rank(), "declared out of rank order");
                assert!(Priority::ALL[i - 1] < *p, "Ord follows rank");
            }
        }
        assert_eq!(Priority::from_rank(2), None);
        assert_eq!(Priority::Urgent.to_string(), "urgent");
    }

    #[test]
    fn lists_sort_by_rank_and_refuse_blanks_and_strangers() {
        assert_eq!(Priority::parse_list("p", " urgent,low,urgent ").unwrap(), [Priority::Low, Priority::Urgent]);
        for bad in ["", "low,", ",low", "Low", "high", "low;urgent"] {
            assert_eq!(Priority::parse_list("p", bad).unwrap_err().field, "p", "{bad:?}");
        }
    }

    #[test]
    fn serde_uses_wire_names() {
        assert_eq!(serde_json::to_string(&Priority::Medium).unwrap(), "\"medium\"");
        assert_eq!(serde_json::from_str::<Priority>("\"urgent\"").unwrap(), Priority::Urgent);
        assert!(serde_json::from_str::<Priority>("\"Urgent\"").is_err());
    }
}
