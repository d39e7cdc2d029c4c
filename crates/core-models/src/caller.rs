//! Who is calling: the identity every signed-in product's service methods take.
//!
//! The gateway authenticates a request once (the accounts crate's middleware checks the
//! bearer token for the whole app) and leaves a [`Caller`] in the request. Handlers ask for
//! it as an argument (`caller: Caller` requires a login, [`MaybeCaller`] accepts anonymous
//! callers; both in `core_models::http`), and pass it to the service, which decides what
//! the caller may do. A library user builds a `Caller` itself and gets the same rules.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An authenticated user making a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller {
    /// The user's id.
    pub id: Uuid,
    /// The user's display name (for authored things and activity entries).
    pub display_name: String,
}

impl Caller {
    /// A caller with the given identity.
    pub fn new(id: Uuid, display_name: impl Into<String>) -> Self {
        Caller { id, display_name: display_name.into() }
    }

    /// How the caller appears in responses (`author`, `actor`, `user`).
    pub fn user_ref(&self) -> UserRef {
        UserRef { id: self.id, display_name: self.display_name.clone() }
    }
}

/// A user as other resources name them: `{"id": ..., "display_name": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct UserRef {
    /// The user's id.
    pub id: Uuid,
    /// The user's display name.
    #[schema(example = "Ada")]
    pub display_name: String,
}

/// The caller of a request that may be anonymous.
///
/// As a handler argument (feature `http`) it is `None` without an `Authorization` header;
/// a header that does not authenticate never gets this far (401 for every endpoint).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaybeCaller(pub Option<Caller>);

impl MaybeCaller {
    /// The caller, if logged in.
    pub fn caller(&self) -> Option<&Caller> {
        self.0.as_ref()
    }

    /// The caller's id, if logged in.
    pub fn id(&self) -> Option<Uuid> {
        self.0.as_ref().map(|c| c.id)
    }

    /// The caller, if logged in, by value.
    pub fn into_inner(self) -> Option<Caller> {
        self.0
    }
}
