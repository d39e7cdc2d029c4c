//! Whose notes and tasks a call works on: the shared anonymous board, or a user's own.
//!
//! Notes and tasks need no login. Without one they live on one board everybody shares;
//! with a valid token they are the caller's own, invisible to everyone else. Services take
//! a [`Board`] on every call and scope every read and write to it, so a library user gets
//! the same rules as an HTTP client (a handler gets one with the `Board` extractor of
//! `core_models::http`: the caller's board, or the anonymous one without a token).
//!
//! ```
//! use core_models::{Board, Caller};
//!
//! let ada = Caller::new(uuid::Uuid::now_v7(), "Ada");
//! assert_eq!(Board::of(Some(&ada)), Board::User(ada.id));
//! assert_eq!(Board::of(None), Board::Anonymous);
//! assert_eq!(Board::Anonymous.owner_id(), None);
//! ```

use uuid::Uuid;

use crate::{Caller, MaybeCaller};

/// The board a call works on. Another board's rows do not exist for it (404).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Board {
    /// The shared board of callers without a login (stored as owner `NULL`).
    #[default]
    Anonymous,
    /// The private board of one user (stored as owner = the user's id).
    User(Uuid),
}

impl Board {
    /// The board of `caller`: theirs when logged in, the anonymous one otherwise.
    pub fn of(caller: Option<&Caller>) -> Board {
        caller.map_or(Board::Anonymous, |c| Board::User(c.id))
    }

    /// The stored owner of this board's rows: the user's id, or `None` (NULL) for the
    /// anonymous board.
    pub fn owner_id(self) -> Option<Uuid> {
        match self {
            Board::Anonymous => None,
            Board::User(id) => Some(id),
        }
    }
}

impl From<Option<Uuid>> for Board {
    fn from(owner: Option<Uuid>) -> Self {
        owner.map_or(Board::Anonymous, Board::User)
    }
}

impl From<&Caller> for Board {
    fn from(caller: &Caller) -> Self {
        Board::User(caller.id)
    }
}

impl From<&MaybeCaller> for Board {
    fn from(caller: &MaybeCaller) -> Self {
        Board::of(caller.caller())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_round_trip() {
        let id = Uuid::now_v7();
        for board in [Board::Anonymous, Board::User(id)] {
            assert_eq!(Board::from(board.owner_id()), board);
        }
        assert_eq!(Board::from(&MaybeCaller(None)), Board::Anonymous);
        assert_eq!(Board::from(&MaybeCaller(Some(Caller::new(id, "Ada")))), Board::User(id));
    }
}
