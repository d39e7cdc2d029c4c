//! The learning-platform contract, and its implementation over the shared database
//! (SQLite or PostgreSQL).
//!
//! Every method that writes takes the [`Caller`]; browsing takes an optional one. The rules
//! (authors only, a rating needs a completion, no feedback on one's own completion) are
//! checked inside the same read or write as the data they guard, so a library user gets
//! exactly what an HTTP client gets.

use core_models::pagination::IdPaging;
use core_models::version::IfMatch;
use core_models::{AppResult, Caller, Page};
use diesel::Connection as _;
use storage::Database;
use storage::DbConn;
use uuid::Uuid;

use crate::list::{ListChallenges, ListPaths};
use crate::model::{
    Challenge, ChallengeChanges, Comment, CommentBody, Completion, CompletionBody, Enrollment, Feedback, FeedbackBody,
    LearningPath, MyRating, NewChallenge, NewPath, OwnRating, PathChallenges, PathChanges, PathDetail, PathProgress,
    PathProgressSummary, Put, RatingBody,
};
use crate::{challenges, comments, completions, list, paths, progress};

/// Challenges, paths, enrolments, completions, ratings, comments, feedback and progress.
#[allow(missing_docs)]
pub trait LearningService: Send + Sync + 'static {
    fn create_challenge(&self, caller: &Caller, new: NewChallenge) -> AppResult<Challenge>;
    /// Browse; `query.filter.completed` already names the caller.
    fn challenges(&self, query: &ListChallenges) -> AppResult<Page<Challenge>>;
    /// One challenge, with `me` when `viewer` is a logged-in caller.
    fn challenge(&self, challenge_id: Uuid, viewer: Option<Uuid>) -> AppResult<Challenge>;
    fn update_challenge(
        &self,
        caller: &Caller,
        challenge_id: Uuid,
        changes: ChallengeChanges,
        if_match: IfMatch,
    ) -> AppResult<Challenge>;
    fn delete_challenge(&self, caller: &Caller, challenge_id: Uuid, if_match: IfMatch) -> AppResult<()>;

    fn create_path(&self, caller: &Caller, new: NewPath) -> AppResult<PathDetail>;
    fn paths(&self, query: &ListPaths) -> AppResult<Page<LearningPath>>;
    /// One path; its challenges carry `me` when `viewer` is a logged-in caller.
    fn path(&self, path_id: Uuid, viewer: Option<Uuid>) -> AppResult<PathDetail>;
    fn update_path(
        &self,
        caller: &Caller,
        path_id: Uuid,
        changes: PathChanges,
        if_match: IfMatch,
    ) -> AppResult<PathDetail>;
    fn set_path_challenges(
        &self,
        caller: &Caller,
        path_id: Uuid,
        list: PathChallenges,
        if_match: IfMatch,
    ) -> AppResult<PathDetail>;
    fn delete_path(&self, caller: &Caller, path_id: Uuid, if_match: IfMatch) -> AppResult<()>;
    fn enroll(&self, caller: &Caller, path_id: Uuid) -> AppResult<Put<Enrollment>>;
    fn leave_path(&self, caller: &Caller, path_id: Uuid) -> AppResult<()>;

    fn complete(&self, caller: &Caller, challenge_id: Uuid, body: CompletionBody) -> AppResult<Put<Completion>>;
    fn undo_completion(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<()>;
    fn completions(&self, caller: &Caller, challenge_id: Uuid, paging: &IdPaging) -> AppResult<Page<Completion>>;
    fn rate(&self, caller: &Caller, challenge_id: Uuid, body: RatingBody) -> AppResult<Put<MyRating>>;
    /// The caller's own completion (404 when none).
    fn own_completion(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<Completion>;
    /// The caller's own rating (404 when none).
    fn own_rating(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<OwnRating>;
    /// Withdraws the caller's rating (404 when none).
    fn withdraw_rating(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<()>;

    fn create_comment(&self, caller: &Caller, challenge_id: Uuid, body: CommentBody) -> AppResult<Comment>;
    fn comments(&self, challenge_id: Uuid, paging: &IdPaging) -> AppResult<Page<Comment>>;
    fn comment(&self, comment_id: Uuid) -> AppResult<Comment>;
    fn update_comment(
        &self,
        caller: &Caller,
        comment_id: Uuid,
        body: CommentBody,
        if_match: IfMatch,
    ) -> AppResult<Comment>;
    fn delete_comment(&self, caller: &Caller, comment_id: Uuid, if_match: IfMatch) -> AppResult<()>;

    fn give_feedback(&self, caller: &Caller, completion_id: Uuid, body: FeedbackBody) -> AppResult<Feedback>;
    fn feedback(&self, caller: &Caller, completion_id: Uuid, paging: &IdPaging) -> AppResult<Page<Feedback>>;

    fn my_progress(&self, caller: &Caller, paging: &IdPaging) -> AppResult<Page<PathProgressSummary>>;
    fn path_progress(&self, caller: &Caller, path_id: Uuid) -> AppResult<PathProgress>;
}

/// [`LearningService`] over the shared database.
#[derive(Debug, Clone)]
pub struct DbLearning {
    db: Database,
}

impl DbLearning {
    /// The service on a migrated database.
    pub fn new(db: Database) -> Self {
        core_models::constraint::register(crate::CONSTRAINTS);
        DbLearning { db }
    }

    /// A read in one snapshot.
    fn read<T>(&self, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
        let mut conn = self.db.read()?;
        (*conn).transaction(f)
    }

    /// A read of one statement, which is a snapshot of its own: on PostgreSQL the
    /// `BEGIN` and `COMMIT` of [`Self::read`] would be two more round trips.
    fn read_one<T>(&self, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
        let mut conn = self.db.read()?;
        f(&mut conn)
    }

    /// A browse that may search: a search takes one of the search slots and is planned for
    /// its words (`storage::Database::read_for_search`), in one snapshot; so does a page
    /// with its total. Any other page is read without a transaction: its one page statement
    /// holds every filter (a tag browse first reads the tags' counts, which only choose
    /// the walk, or answer an empty page when a tag has no challenge at that moment).
    fn browse<T>(&self, searching: bool, counting: bool, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> AppResult<T> {
        if !searching {
            let mut conn = self.db.read()?;
            return storage::conn::snapshot(&mut conn, counting, f);
        }
        let mut conn = self.db.read_for_search()?;
        (*conn).transaction(f)
    }

    /// A write as `caller` on the writer thread.
    fn write<T, F>(&self, caller: &Caller, f: F) -> AppResult<T>
    where
        F: FnMut(&mut DbConn, &Caller) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let caller = caller.clone();
        let mut f = f;
        self.db.write(move |conn| f(conn, &caller))
    }
}

impl LearningService for DbLearning {
    fn create_challenge(&self, caller: &Caller, new: NewChallenge) -> AppResult<Challenge> {
        self.write(caller, move |c, me| challenges::create(c, me, new.clone()))
    }
    fn challenges(&self, query: &ListChallenges) -> AppResult<Page<Challenge>> {
        self.browse(query.filter.search.is_some(), query.page.count, |c| list::challenges(c, query))
    }
    fn challenge(&self, challenge_id: Uuid, viewer: Option<Uuid>) -> AppResult<Challenge> {
        self.read_one(|c| challenges::find(c, challenge_id, viewer))
    }
    fn update_challenge(
        &self,
        caller: &Caller,
        challenge_id: Uuid,
        changes: ChallengeChanges,
        if_match: IfMatch,
    ) -> AppResult<Challenge> {
        self.write(caller, move |c, me| challenges::update(c, me, challenge_id, changes.clone(), if_match.clone()))
    }
    fn delete_challenge(&self, caller: &Caller, challenge_id: Uuid, if_match: IfMatch) -> AppResult<()> {
        self.write(caller, move |c, me| challenges::delete(c, me, challenge_id, if_match.clone()))
    }

    fn create_path(&self, caller: &Caller, new: NewPath) -> AppResult<PathDetail> {
        self.write(caller, move |c, me| paths::create(c, me, new.clone()))
    }
    fn paths(&self, query: &ListPaths) -> AppResult<Page<LearningPath>> {
        self.browse(query.search.is_some(), query.page.count, |c| list::paths(c, query))
    }
    fn path(&self, path_id: Uuid, viewer: Option<Uuid>) -> AppResult<PathDetail> {
        self.read(|c| paths::detail(c, path_id, viewer))
    }
    fn update_path(
        &self,
        caller: &Caller,
        path_id: Uuid,
        changes: PathChanges,
        if_match: IfMatch,
    ) -> AppResult<PathDetail> {
        self.write(caller, move |c, me| paths::update(c, me, path_id, changes.clone(), if_match.clone()))
    }
    fn set_path_challenges(
        &self,
        caller: &Caller,
        path_id: Uuid,
        list: PathChallenges,
        if_match: IfMatch,
    ) -> AppResult<PathDetail> {
        self.write(caller, move |c, me| paths::set_challenges(c, me, path_id, list.clone(), if_match.clone()))
    }
    fn delete_path(&self, caller: &Caller, path_id: Uuid, if_match: IfMatch) -> AppResult<()> {
        self.write(caller, move |c, me| paths::delete(c, me, path_id, if_match.clone()))
    }
    fn enroll(&self, caller: &Caller, path_id: Uuid) -> AppResult<Put<Enrollment>> {
        self.write(caller, move |c, me| paths::enroll(c, me, path_id))
    }
    fn leave_path(&self, caller: &Caller, path_id: Uuid) -> AppResult<()> {
        self.write(caller, move |c, me| paths::leave(c, me, path_id))
    }

    fn complete(&self, caller: &Caller, challenge_id: Uuid, body: CompletionBody) -> AppResult<Put<Completion>> {
        self.write(caller, move |c, me| completions::complete(c, me, challenge_id, body.clone()))
    }
    fn undo_completion(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<()> {
        self.write(caller, move |c, me| completions::undo(c, me, challenge_id))
    }
    fn completions(&self, caller: &Caller, challenge_id: Uuid, paging: &IdPaging) -> AppResult<Page<Completion>> {
        self.read(|c| completions::others(c, caller, challenge_id, paging))
    }
    fn rate(&self, caller: &Caller, challenge_id: Uuid, body: RatingBody) -> AppResult<Put<MyRating>> {
        self.write(caller, move |c, me| completions::rate(c, me, challenge_id, body.clone()))
    }
    fn own_completion(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<Completion> {
        self.read(|c| completions::own(c, caller, challenge_id))
    }
    fn own_rating(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<OwnRating> {
        self.read(|c| completions::own_rating(c, caller, challenge_id))
    }
    fn withdraw_rating(&self, caller: &Caller, challenge_id: Uuid) -> AppResult<()> {
        self.write(caller, move |c, me| completions::withdraw_rating(c, me, challenge_id))
    }

    fn create_comment(&self, caller: &Caller, challenge_id: Uuid, body: CommentBody) -> AppResult<Comment> {
        self.write(caller, move |c, me| comments::create(c, me, challenge_id, body.clone()))
    }
    fn comments(&self, challenge_id: Uuid, paging: &IdPaging) -> AppResult<Page<Comment>> {
        self.read(|c| comments::list(c, challenge_id, paging))
    }
    fn comment(&self, comment_id: Uuid) -> AppResult<Comment> {
        self.read(|c| comments::find(c, comment_id))
    }
    fn update_comment(
        &self,
        caller: &Caller,
        comment_id: Uuid,
        body: CommentBody,
        if_match: IfMatch,
    ) -> AppResult<Comment> {
        self.write(caller, move |c, me| comments::update(c, me, comment_id, body.clone(), if_match.clone()))
    }
    fn delete_comment(&self, caller: &Caller, comment_id: Uuid, if_match: IfMatch) -> AppResult<()> {
        self.write(caller, move |c, me| comments::delete(c, me, comment_id, if_match.clone()))
    }

    fn give_feedback(&self, caller: &Caller, completion_id: Uuid, body: FeedbackBody) -> AppResult<Feedback> {
        self.write(caller, move |c, me| completions::give_feedback(c, me, completion_id, body.clone()))
    }
    fn feedback(&self, _caller: &Caller, completion_id: Uuid, paging: &IdPaging) -> AppResult<Page<Feedback>> {
        self.read(|c| completions::feedback(c, completion_id, paging))
    }

    fn my_progress(&self, caller: &Caller, paging: &IdPaging) -> AppResult<Page<PathProgressSummary>> {
        self.read(|c| progress::mine(c, caller, paging))
    }
    fn path_progress(&self, caller: &Caller, path_id: Uuid) -> AppResult<PathProgress> {
        self.read(|c| progress::along(c, caller, path_id))
    }
}
