//! The `activity` table: appending inside the caller's write, and the feeds.

use core_models::constraint::ForeignKeyField as _;
use core_models::{id, time, AppError, AppResult, Caller, Page};
use diesel::prelude::*;
use storage::count::count_up_to;
use storage::names::People;
use storage::schema::{activity, activity_counters};
use storage::{Backend, DbConn, Engine};
use uuid::Uuid;

use crate::model::{fresh_entry_id, MAX_TEAM_SEQ};
use crate::query::{FeedFilter, FeedQuery};
use crate::{ActivityEntry, NewEntry};

/// An entry as stored; its actor's name comes from memory ([`storage::names`]).
#[derive(Debug, Queryable, Selectable)]
#[diesel(check_for_backend(storage::Backend))]
struct EntryRow {
    #[diesel(select_expression = activity::seq)]
    seq: i64,
    #[diesel(select_expression = activity::team_id)]
    team_id: String,
    #[diesel(select_expression = activity::project_id)]
    project_id: Option<String>,
    #[diesel(select_expression = activity::task_id)]
    task_id: Option<String>,
    #[diesel(select_expression = activity::actor_id)]
    actor_id: String,
    #[diesel(select_expression = storage::names::VERSION, select_expression_type = storage::names::Version)]
    names_version: i64,
    #[diesel(select_expression = activity::action)]
    action: String,
    #[diesel(select_expression = activity::details)]
    details: String,
    #[diesel(select_expression = activity::created_at)]
    created_at: i64,
    #[diesel(select_expression = activity::team_seq)]
    team_seq: i64,
    #[diesel(select_expression = activity::public_id)]
    public_id: String,
}

fn optional_id(column: &str, raw: Option<String>) -> AppResult<Option<Uuid>> {
    raw.map(|raw| id::from_stored(column, &raw)).transpose()
}

/// Entries from rows, their actors named from memory or read in one statement.
fn entries_of(conn: &mut DbConn, rows: Vec<EntryRow>) -> AppResult<Vec<ActivityEntry>> {
    let people = People::of_rows(conn, &rows, "activity.actor_id", |r| (r.names_version, r.actor_id.as_str()))?;
    rows.into_iter().map(|row| entry_of(row, &people)).collect()
}

fn entry_of(row: EntryRow, people: &People) -> AppResult<ActivityEntry> {
    Ok(ActivityEntry {
        id: id::from_stored("activity.public_id", &row.public_id)?,
        team_id: id::from_stored("activity.team_id", &row.team_id)?,
        project_id: optional_id("activity.project_id", row.project_id)?,
        task_id: optional_id("activity.task_id", row.task_id)?,
        actor: people.user("activity.actor_id", id::from_stored("activity.actor_id", &row.actor_id)?)?,
        action: row.action,
        details: serde_json::from_str(&row.details).map_err(|_| id::corrupt("activity.details", &row.details))?,
        created_at: time::from_millis(row.created_at),
        seq: row.seq,
        team_seq: row.team_seq,
    })
}

/// A team's counter row after an append bumped it.
#[derive(diesel::QueryableByName)]
struct Counter {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    last_seq: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    last_at: i64,
}

/// The next number of `team_id`'s entries and the entry's time, counted inside the
/// caller's write: the counter row's update orders a team's appends, so numbers follow
/// commit order, and the time is `now_ms` or the team's last entry's time if that is later
/// (clocks of gateways differ, and a clock may step back), so a team's times never go
/// back and `since` can become a bound on the log's order. Only the team's own row is
/// read: no append reads what another team's appends write.
fn next_team_seq(conn: &mut DbConn, team_id: &str, now_ms: i64) -> AppResult<(i64, i64)> {
    // An upsert: written as SQL, which both engines spell alike (Diesel's DSL offers no
    // ON CONFLICT over the two); CASE, as the engines name the larger of two values apart.
    let counter: Counter = storage::sql::sql("INSERT INTO activity_counters (team_id, last_seq, last_at) VALUES (")
        .bind_text(team_id)
        .sql(", 1, ")
        .bind_int(now_ms)
        .sql(
            ") ON CONFLICT (team_id) DO UPDATE SET last_seq = activity_counters.last_seq + 1, \
             last_at = CASE WHEN excluded.last_at > activity_counters.last_at \
             THEN excluded.last_at ELSE activity_counters.last_at END \
             RETURNING last_seq, last_at",
        )
        .untyped()
        .get_result(conn)?;
    if counter.last_seq > MAX_TEAM_SEQ {
        return Err(AppError::Internal(anyhow::anyhow!(
            "team {team_id} has recorded {MAX_TEAM_SEQ} entries, the most"
        )));
    }
    Ok((counter.last_seq, counter.last_at))
}

/// The log position an insert returned.
#[derive(diesel::QueryableByName)]
struct Seq {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
}

/// What to `NOTIFY` for an entry (its team and number): `(channel, payload)`, if anything
/// ([`crate::Publisher::announcement`]).
pub(crate) type Announce<'a> = dyn Fn(Uuid, i64) -> Option<(&'static str, String)> + 'a;

/// Inserts the entry on `conn` (the caller's write transaction) and returns it as stored;
/// on PostgreSQL the same statement sends what `announce` gives for it.
pub(crate) fn insert(
    conn: &mut DbConn,
    actor: &Caller,
    new: NewEntry,
    announce: &Announce<'_>,
) -> AppResult<ActivityEntry> {
    insert_with(conn, actor, new, &mut fresh_entry_id, announce)
}

/// [`insert`] with the public ids drawn from `ids` (time, team count): tests choose them.
fn insert_with(
    conn: &mut DbConn,
    actor: &Caller,
    new: NewEntry,
    ids: &mut dyn FnMut(i64, i64) -> Uuid,
    announce: &Announce<'_>,
) -> AppResult<ActivityEntry> {
    if new.action.is_empty() || new.action.len() > 64 {
        return Err(AppError::Internal(anyhow::anyhow!("activity action {:?} must be 1 to 64 bytes", new.action)));
    }
    let team = new.team_id.to_string();
    let (team_seq, created_at) = next_team_seq(conn, &team, time::to_millis(time::now()))?;
    let details = new.details.into_value();
    let details_text = details.to_string();
    // On PostgreSQL the insert is `WITH e AS (INSERT ... RETURNING seq) SELECT e.seq,
    // pg_notify(...) FROM e`: the notification goes only with a row inserted.
    let (open, close) = match announce(new.team_id, team_seq) {
        Some((channel, payload)) if payload.len() <= storage::notify::MAX_PAYLOAD => (
            storage::sql::sql("").only_on(Engine::Postgres, storage::sql::sql("WITH e AS (")),
            storage::sql::sql("").only_on(
                Engine::Postgres,
                storage::sql::sql(") SELECT e.seq, pg_notify(")
                    .bind_text(channel)
                    .sql(", ")
                    .bind_text(payload)
                    .sql(") FROM e"),
            ),
        ),
        Some((_, payload)) => {
            return Err(AppError::Internal(anyhow::anyhow!("a notification payload of {} bytes", payload.len())));
        }
        None => (storage::sql::sql(""), storage::sql::sql("")),
    };
    // Ids are unique by index. Two teams' entries collide only with the same millisecond,
    // count and 32 random bits; should it happen, the insert writes nothing (`ON CONFLICT
    // DO NOTHING`: no savepoint, which on PostgreSQL would cost two round trips on every
    // append) and runs again with other random bits.
    let mut attempt = 0;
    let (seq, id) = loop {
        attempt += 1;
        let id = ids(created_at, team_seq);
        let inserted: Vec<Seq> = open
            .clone()
            .sql(
                "INSERT INTO activity (team_id, project_id, task_id, actor_id, action, details, created_at, \
                 team_seq, public_id) VALUES (",
            )
            .bind_text(team.clone())
            .sql(", ")
            .bind_opt_text(new.project_id.map(|id| id.to_string()))
            .sql(", ")
            .bind_opt_text(new.task_id.map(|id| id.to_string()))
            .sql(", ")
            .bind_text(actor.id.to_string())
            .sql(", ")
            .bind_text(new.action.clone())
            .sql(", ")
            .bind_text(details_text.clone())
            .sql(", ")
            .bind_int(created_at)
            .sql(", ")
            .bind_int(team_seq)
            .sql(", ")
            .bind_text(id.to_string())
            .sql(") ON CONFLICT (public_id) DO NOTHING RETURNING seq")
            .append(close.clone())
            .untyped()
            .load(conn)
            .fk_field("actor")?;
        match inserted.first() {
            Some(row) => break (row.seq, id),
            None if attempt < 3 => {}
            None => {
                return Err(AppError::Internal(anyhow::anyhow!("three activity ids in a row were taken (team {team})")))
            }
        }
    };
    Ok(ActivityEntry {
        id,
        team_id: new.team_id,
        project_id: new.project_id,
        task_id: new.task_id,
        actor: actor.user_ref(),
        action: new.action,
        details,
        created_at: time::from_millis(created_at),
        seq,
        team_seq,
    })
}

/// Which entries a feed is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Everything of a team.
    Team(Uuid),
    /// One task's history.
    Task(Uuid),
}

/// The query of the first `seq` of `team_id` recorded at or after `since_ms`: a team's
/// times never go back in its log's order (see [`next_team_seq`]), so its entries from
/// `since` on are those from this `seq` on.
fn first_seq_since_sql(
    team_id: Uuid,
    since_ms: i64,
) -> impl diesel::query_builder::QueryFragment<Backend> + diesel::query_dsl::LoadQuery<'static, DbConn, i64> {
    activity::table
        .filter(activity::team_id.eq(team_id.to_string()))
        .filter(activity::created_at.ge(since_ms))
        .order((activity::team_id.asc(), activity::created_at.asc()))
        .select(activity::seq)
        .limit(1)
}

/// Where `since` starts a feed of `subject`: `Ok(None)` when nothing is that recent.
/// A task's log is short and read through its own index: its time is a filter there.
fn since_bound(conn: &mut DbConn, subject: Subject, since_ms: i64) -> AppResult<Option<SinceBound>> {
    match subject {
        Subject::Team(team) => {
            Ok(first_seq_since_sql(team, since_ms).get_result(conn).optional()?.map(SinceBound::FromSeq))
        }
        Subject::Task(_) => Ok(Some(SinceBound::FromTime(since_ms))),
    }
}

/// How a feed leaves out what is older than its `since`.
#[derive(Debug, Clone, Copy)]
enum SinceBound {
    /// Entries from this `seq` on.
    FromSeq(i64),
    /// Entries recorded at or after this time (milliseconds).
    FromTime(i64),
}

type FeedSql = diesel::dsl::IntoBoxed<
    'static,
    diesel::dsl::Select<activity::table, diesel::dsl::AsSelect<EntryRow, Backend>>,
    Backend,
>;

/// The query of one page of a feed (one row beyond the limit), entries from `since` on.
fn feed_sql(subject: Subject, query: &FeedQuery, since: Option<SinceBound>) -> AppResult<FeedSql> {
    let mut q = listed(subject, query, since);
    if let Some(before) = query.before_seq()? {
        q = q.filter(activity::seq.lt(before));
    }
    Ok(q.order(activity::seq.desc()).limit(i64::from(query.page.limit) + 1))
}

/// The entries of a feed its filters keep, from `since` on, in no order and before its
/// cursor: what its pages read and its `count=true` counts.
fn listed(subject: Subject, query: &FeedQuery, since: Option<SinceBound>) -> FeedSql {
    let mut q = activity::table.select(EntryRow::as_select()).into_boxed();
    q = match subject {
        Subject::Team(team) => q.filter(activity::team_id.eq(team.to_string())),
        Subject::Task(task) => q.filter(activity::task_id.eq(task.to_string())),
    };
    let FeedFilter { project_id, actor, action, since: _ } = &query.filter;
    if let Some(project) = project_id {
        q = q.filter(activity::project_id.eq(project.to_string()));
    }
    if let Some(actor) = actor {
        q = q.filter(activity::actor_id.eq(actor.to_string()));
    }
    if let Some(action) = action {
        q = q.filter(activity::action.eq(action.clone()));
    }
    match since {
        Some(SinceBound::FromSeq(first)) => q = q.filter(activity::seq.ge(first)),
        Some(SinceBound::FromTime(ms)) => q = q.filter(activity::created_at.ge(ms)),
        None => {}
    }
    q
}

/// One page of a feed, newest first, and its total when `count=true` asked for it.
pub(crate) fn feed(conn: &mut DbConn, subject: Subject, query: &FeedQuery) -> AppResult<Page<ActivityEntry>> {
    let since = match query.filter.since {
        None => None,
        Some(since) => match since_bound(conn, subject, time::to_millis(since))? {
            Some(bound) => Some(bound),
            None => return Ok(Page::empty(&query.page)),
        },
    };
    let rows: Vec<EntryRow> = feed_sql(subject, query, since)?.load(conn)?;
    let entries = entries_of(conn, rows)?;
    let total = query.page.total(|most| count_up_to(conn, listed(subject, query, since), most))?;
    Ok(query.page_of(entries).with_total(total))
}

/// One page of a feed read by one statement that also holds `gate` (the reader's right to
/// it, written by the caller); `None` when that cannot answer alone: no rows (the gate
/// may have failed), or a total or a `since` (statements that must share the page's
/// snapshot).
pub(crate) fn feed_gated(
    conn: &mut DbConn,
    subject: Subject,
    query: &FeedQuery,
    gate: storage::sql::Sql,
) -> AppResult<Option<Page<ActivityEntry>>> {
    if query.page.count || query.filter.since.is_some() {
        return Ok(None);
    }
    let rows: Vec<EntryRow> = feed_sql(subject, query, None)?.filter(gate).load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let entries = entries_of(conn, rows)?;
    Ok(Some(query.page_of(entries)))
}

/// Up to `limit` entries of `team_id` after its entry number `after_team_seq`, oldest
/// first (a stream's replay).
pub(crate) fn team_entries_after(
    conn: &mut DbConn,
    team_id: Uuid,
    after_team_seq: i64,
    limit: i64,
) -> AppResult<Vec<ActivityEntry>> {
    let rows: Vec<EntryRow> = replay_sql(team_id, after_team_seq, limit).load(conn)?;
    entries_of(conn, rows)
}

/// The query of [`team_entries_after`].
fn replay_sql(team_id: Uuid, after_team_seq: i64, limit: i64) -> FeedSql {
    activity::table
        .select(EntryRow::as_select())
        .into_boxed()
        .filter(activity::team_id.eq(team_id.to_string()))
        .filter(activity::team_seq.gt(after_team_seq))
        .order(activity::team_seq.asc())
        .limit(limit)
}

/// The number of `team_id`'s last committed entry (0 before its first).
pub(crate) fn last_team_seq(conn: &mut DbConn, team_id: Uuid) -> AppResult<i64> {
    Ok(activity_counters::table
        .find(team_id.to_string())
        .select(activity_counters::last_seq)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// The number of the last committed entry of each of `teams` that has one.
pub(crate) fn last_team_seqs(conn: &mut DbConn, teams: &[Uuid]) -> AppResult<Vec<(Uuid, i64)>> {
    let mut out = Vec::with_capacity(teams.len());
    // Bounded lists: one statement per few hundred teams, never one per team.
    for chunk in teams.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let rows: Vec<(String, i64)> = activity_counters::table
            .filter(activity_counters::team_id.eq_any(ids))
            .select((activity_counters::team_id, activity_counters::last_seq))
            .load(conn)?;
        for (team, last) in rows {
            out.push((id::from_stored("activity_counters.team_id", &team)?, last));
        }
    }
    Ok(out)
}

/// The entries whose log positions (`seq`) are `seqs`, in `seq` order, in one query per
/// 500 (a page of rows that point at entries loads them all at once).
pub(crate) fn entries_by_seq(conn: &mut DbConn, seqs: &[i64]) -> AppResult<Vec<ActivityEntry>> {
    let mut out = Vec::with_capacity(seqs.len());
    for chunk in seqs.chunks(500) {
        let rows: Vec<EntryRow> = activity::table
            .select(EntryRow::as_select())
            .filter(activity::seq.eq_any(chunk))
            .order(activity::seq.asc())
            .load(conn)?;
        out.extend(entries_of(conn, rows)?);
    }
    out.sort_by_key(|e| e.seq);
    Ok(out)
}

/// The number in `team_id`'s log of its entry `id` (a client's `Last-Event-ID`); `None` if
/// the team has no entry with that id.
pub(crate) fn team_seq_of(conn: &mut DbConn, team_id: Uuid, id: Uuid) -> AppResult<Option<i64>> {
    Ok(activity::table
        .filter(activity::public_id.eq(id.to_string()))
        .filter(activity::team_id.eq(team_id.to_string()))
        .select(activity::team_seq)
        .first(conn)
        .optional()?)
}

#[cfg(test)]
mod query_plans {
    use super::*;
    use crate::query::FeedParams;
    use storage::plan::{plan_problems, query_plan};

    /// A gate as a caller of [`feed_gated`] writes one: a primary-key lookup in a subquery.
    fn a_gate(user: Uuid) -> storage::sql::Sql {
        storage::sql::sql("EXISTS (SELECT 1 FROM users WHERE users.id = ").bind_text(user.to_string()).sql(")")
    }

    #[test]
    fn every_feed_filter_walks_an_index_newest_first() {
        let db = storage::test_pool_sqlite();
        let mut conn = db.read().unwrap();
        let id = || Some(Uuid::now_v7().to_string());
        let filters: Vec<FeedParams> = vec![
            FeedParams::default(),
            FeedParams { project_id: id(), ..FeedParams::default() },
            FeedParams { actor: id(), ..FeedParams::default() },
            FeedParams { action: Some("task.created".into()), ..FeedParams::default() },
            FeedParams { project_id: id(), action: Some("task.updated".into()), ..FeedParams::default() },
        ];
        for params in filters {
            let query = FeedQuery::parse(params.clone()).unwrap();
            for subject in [Subject::Team(Uuid::now_v7()), Subject::Task(Uuid::now_v7())] {
                // The bound each subject's `since` becomes (`since_bound`).
                let bound = match subject {
                    Subject::Team(_) => SinceBound::FromSeq(42),
                    Subject::Task(_) => SinceBound::FromTime(42),
                };
                for since in [None, Some(bound)] {
                    let plan = query_plan(&mut conn, feed_sql(subject, &query, since).unwrap()).unwrap();
                    let problems = plan_problems(&plan, "activity");
                    assert!(problems.is_empty(), "{subject:?} {params:?} since {since:?}: {plan:#?}");
                }
                // A page read with a gate in its statement (`feed_gated`): the same walk.
                let gated = feed_sql(subject, &query, None).unwrap().filter(a_gate(Uuid::now_v7()));
                let plan = query_plan(&mut conn, gated).unwrap();
                assert!(plan_problems(&plan, "activity").is_empty(), "{subject:?} {params:?} gated: {plan:#?}");
            }
        }
        let plan = query_plan(&mut conn, first_seq_since_sql(Uuid::now_v7(), 0)).unwrap();
        assert!(plan_problems(&plan, "activity").is_empty(), "{plan:#?}");
    }

    /// PostgreSQL: 20,000 analysed entries, 60% of them team 1's (10 projects, 20 actors, 5
    /// actions), 400 of one task. Every filter of both feeds, first page and after the
    /// 200th entry, from the start and `since` a time: an index walk newest first, no
    /// sequential scan, no sort of many rows, no walk across most of the team; and the
    /// `since` lookup and a stream's replay read an index.
    #[test]
    fn every_feed_filter_walks_an_index_on_postgresql() {
        use storage::plan::plan_failure;
        use storage::testing::{seeded_id_sql as id, SEED_HASHES};
        let uuid = |kind: u8, i: u32| Uuid::parse_str(&storage::testing::seeded_id(kind, i)).unwrap();
        let seed = format!(
            "INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at)
             SELECT {user}, 'u' || i || '@x.io', 'u' || i || '@x.io', 'User ' || i, 'h', 0 FROM generate_series(1, 20) AS i;
             INSERT INTO activity (team_id, project_id, task_id, actor_id, action, details, created_at, team_seq, public_id)
             SELECT CASE WHEN i % 5 < 3 THEN {team1} ELSE {team} END,
                    CASE WHEN h % 10 = 0 THEN NULL ELSE {project} END,
                    CASE WHEN g % 50 = 0 THEN {task1} WHEN g % 10 < 7 THEN {task} END,
                    {actor}, (ARRAY['task.created', 'task.updated', 'comment.created', 'task.deleted', 'project.updated'])[1 + g / 100 % 5],
                    '{{}}', 1733000000000 + i * 60000, i, {public}
               FROM generate_series(1::bigint, 20000) AS i, {SEED_HASHES}",
            user = id(0, "i"),
            team1 = id(1, "1"),
            team = id(1, "2 + i % 10"),
            project = id(2, "h % 10"),
            task1 = id(3, "1"),
            task = id(3, "2 + g / 10 % 5000"),
            actor = id(0, "1 + h / 10 % 20"),
            public = id(4, "i"),
        );
        let Some((_db, mut conn)) = storage::testing::analysed_postgres(&seed) else {
            eprintln!("skipped: not a PostgreSQL run");
            return;
        };
        let some = |kind: u8, i: u32| Some(uuid(kind, i).to_string());
        let filters: Vec<FeedParams> = vec![
            FeedParams::default(),
            FeedParams { project_id: some(2, 3), ..FeedParams::default() },
            FeedParams { actor: some(0, 5), ..FeedParams::default() },
            FeedParams { action: Some("task.created".into()), ..FeedParams::default() },
            FeedParams { project_id: some(2, 3), action: Some("task.updated".into()), ..FeedParams::default() },
            FeedParams { since: Some("2024-12-05".into()), ..FeedParams::default() },
            FeedParams { since: Some("2024-12-05".into()), actor: some(0, 5), ..FeedParams::default() },
        ];
        let mut failures = Vec::new();
        for params in filters {
            for subject in [Subject::Team(uuid(1, 1)), Subject::Task(uuid(3, 1))] {
                let long = FeedQuery::parse(FeedParams { limit: Some("200".into()), ..params.clone() }).unwrap();
                let next = feed(&mut conn, subject, &long).unwrap().next_cursor;
                let pages = [
                    Some(FeedQuery::parse(params.clone()).unwrap()),
                    next.map(|cursor| FeedQuery::parse(FeedParams { cursor: Some(cursor), ..params.clone() }).unwrap()),
                ];
                for query in pages.into_iter().flatten() {
                    let since = query.filter.since.map(|since| {
                        since_bound(&mut conn, subject, time::to_millis(since)).unwrap().expect("entries since")
                    });
                    let plan = query_plan(&mut conn, feed_sql(subject, &query, since).unwrap()).unwrap();
                    if let Some(plan) = plan_failure(&plan, &["activity"]) {
                        failures.push(format!("{subject:?} {params:?} (before {:?}):\n{plan}", query.before_seq()));
                    }
                    if since.is_none() {
                        // Gated by a condition that holds (a seeded user), as `feed_gated` reads.
                        let gated = feed_sql(subject, &query, None).unwrap().filter(a_gate(uuid(0, 5)));
                        if let Some(plan) = plan_failure(&query_plan(&mut conn, gated).unwrap(), &["activity"]) {
                            failures.push(format!("gated {subject:?} {params:?}:\n{plan}"));
                        }
                    }
                }
            }
        }
        let since_ms = time::to_millis(time::parse("2024-12-05T00:00:00Z").unwrap());
        for (what, plan) in [
            ("since", query_plan(&mut conn, first_seq_since_sql(uuid(1, 1), since_ms)).unwrap()),
            ("replay", query_plan(&mut conn, replay_sql(uuid(1, 1), 5000, 500)).unwrap()),
        ] {
            if let Some(plan) = plan_failure(&plan, &["activity"]) {
                failures.push(format!("{what}:\n{plan}"));
            }
        }
        storage::plan::assert_no_plan_failures(&failures);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn silent(_: Uuid, _: i64) -> Option<(&'static str, String)> {
        None
    }

    /// Also: on PostgreSQL the insert sends its announcement, once per entry inserted and
    /// never for an attempt that wrote nothing.
    #[test]
    fn an_id_already_taken_is_drawn_again_and_the_write_goes_on() {
        let db = storage::test_pool();
        let ada = storage::testing::users(&db, &["Ada".into()]).remove(0);
        let mut listener = (db.engine() == Engine::Postgres)
            .then(|| storage::notify::Listener::connect(&db.database(), "cb_test_announce", "test").unwrap());
        let announce = |team: Uuid, seq: i64| Some(("cb_test_announce", format!("{team}:{seq}")));
        let (team, other) = (Uuid::now_v7(), Uuid::now_v7());
        let taken = Uuid::now_v7();
        let free = Uuid::now_v7();
        let actor = ada.clone();
        db.write(move |tx| {
            insert_with(tx.conn(), &actor, NewEntry::new(other, "task.created"), &mut |_, _| taken, &silent).map(|_| ())
        })
        .unwrap();
        let actor = ada.clone();
        let (first, second) = db
            .write(move |tx| {
                // An entry before the collision: the write it belongs to must go on.
                let first = insert(tx.conn(), &actor, NewEntry::new(team, "task.created"), &announce)?;
                let mut drawn = vec![free, taken];
                let second = insert_with(
                    tx.conn(),
                    &actor,
                    NewEntry::new(team, "task.updated"),
                    &mut |_, _| drawn.pop().unwrap(),
                    &announce,
                )?;
                Ok((first, second))
            })
            .unwrap();
        assert_eq!(second.id, free, "the taken id was drawn again");
        assert_eq!((first.team_seq, second.team_seq), (1, 2));
        let mut conn = db.read().unwrap();
        let stored = entries_by_seq(&mut conn, &[first.seq, second.seq]).unwrap();
        assert_eq!(stored, vec![first, second], "both entries of the write committed");
        let failed = db.write(move |tx| {
            insert_with(tx.conn(), &ada, NewEntry::new(team, "task.updated"), &mut |_, _| taken, &announce).map(|_| ())
        });
        assert!(failed.is_err(), "an id that stays taken fails the write instead of looping");
        if let Some(listener) = listener.as_mut() {
            let mut heard = Vec::new();
            for _ in 0..200 {
                heard.extend(listener.received().unwrap());
                if heard.len() >= 2 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            heard.extend(listener.received().unwrap());
            assert_eq!(heard, [format!("{team}:1"), format!("{team}:2")], "one word per committed entry");
        }
    }
}
