//! Teams, their members and invites: functions on an open connection.

use activity_log::{ActivityLog, Details, NewEntry};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use core_models::constraint::ForeignKeyField as _;
use core_models::pagination::IdPaging;
use core_models::rank::RankEnum as _;
use core_models::{id, time, AppError, AppResult, Caller, Page};
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use storage::count::count_up_to;
use storage::schema::{project_tasks, team_invites, team_members, teams, users};
use storage::{Backend, DbConn, Tx};
use uuid::Uuid;

use crate::access::{require_admin, require_member, role_of};
use crate::model::{
    Invite, Member, MemberChanges, NamedChanges, NewInvite, NewMember, NewTeam, OpenInvite, Role, Team,
    ValidNamedChanges,
};

type TeamRow = (String, String, Option<String>, i64);

fn team_of(row: TeamRow, role: Role) -> AppResult<Team> {
    Ok(Team {
        id: id::from_stored("teams.id", &row.0)?,
        name: row.1,
        description: row.2,
        created_at: time::from_millis(row.3),
        my_role: role,
    })
}

fn team_columns() -> (teams::id, teams::name, teams::description, teams::created_at) {
    (teams::id, teams::name, teams::description, teams::created_at)
}

/// Creates a team with the caller as its first admin.
pub fn create(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, new: NewTeam) -> AppResult<Team> {
    let valid = new.validate()?;
    let team_id = id::new_id();
    let now = time::to_millis(time::now());
    diesel::insert_into(teams::table)
        .values((
            teams::id.eq(team_id.to_string()),
            teams::name.eq(&valid.name),
            teams::description.eq(&valid.description),
            teams::created_at.eq(now),
            teams::updated_at.eq(now),
        ))
        .execute(tx.conn())?;
    insert_member(tx, team_id, caller.id, Role::Admin, now)?;
    log.append(tx, caller, NewEntry::new(team_id, "team.created").details(Details::new().with("name", &valid.name)))?;
    team_of((team_id.to_string(), valid.name, valid.description, now), Role::Admin)
}

fn insert_member(conn: &mut DbConn, team_id: Uuid, user: Uuid, role: Role, now: i64) -> AppResult<()> {
    diesel::insert_into(team_members::table)
        .values((
            team_members::team_id.eq(team_id.to_string()),
            team_members::user_id.eq(user.to_string()),
            team_members::role.eq(role.rank()),
            team_members::joined_at.eq(now),
        ))
        .execute(conn)
        .fk_field("user_id")?;
    Ok(())
}

/// One team the caller belongs to.
pub fn get(conn: &mut DbConn, caller: &Caller, team_id: Uuid) -> AppResult<Team> {
    let role = require_member(conn, team_id, caller)?;
    let row: TeamRow = teams::table.find(team_id.to_string()).select(team_columns()).first(conn)?;
    team_of(row, role)
}

/// The caller's teams, oldest first.
pub fn mine(conn: &mut DbConn, caller: &Caller, paging: &IdPaging) -> AppResult<Page<Team>> {
    let listed = || {
        team_members::table
            .inner_join(teams::table)
            .filter(team_members::user_id.eq(caller.id.to_string()))
            .into_boxed()
    };
    let mut q = listed().select((team_columns(), team_members::role));
    if let Some(after) = paging.after() {
        q = q.filter(team_members::team_id.gt(after));
    }
    let rows: Vec<(TeamRow, i32)> = q.order(team_members::team_id.asc()).limit(paging.fetch()).load(conn)?;
    let teams = rows
        .into_iter()
        .map(|(row, rank)| team_of(row, Role::from_rank(rank).unwrap_or(Role::Member)))
        .collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| count_up_to(conn, listed(), most))?;
    Ok(paging.page(teams, |t| t.id.to_string()).with_total(total))
}

/// Changes name and description (admins).
pub fn update(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    team_id: Uuid,
    changes: NamedChanges,
) -> AppResult<Team> {
    let ValidNamedChanges { name, description, archived } = changes.validate()?;
    if archived.is_some() {
        return Err(AppError::invalid("archived", "teams cannot be archived; projects can"));
    }
    require_admin(tx, team_id, caller)?;
    let before = get(tx, caller, team_id)?;
    let after = Team {
        name: name.unwrap_or_else(|| before.name.clone()),
        description: description.unwrap_or_else(|| before.description.clone()),
        ..before.clone()
    };
    let details = Details::new().changed("name", &before.name, &after.name).changed(
        "description",
        &before.description,
        &after.description,
    );
    if details.is_empty() {
        return Ok(before);
    }
    diesel::update(teams::table.find(team_id.to_string()))
        .set((
            teams::name.eq(&after.name),
            teams::description.eq(&after.description),
            teams::updated_at.eq(time::to_millis(time::now())),
        ))
        .execute(tx.conn())?;
    log.append(tx, caller, NewEntry::new(team_id, "team.updated").details(details))?;
    Ok(after)
}

/// Deletes a team with its projects, tasks, comments and invites (admins). Its activity
/// stays, closed by a `team.deleted` entry that ends the members' streams.
pub fn delete(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, team_id: Uuid) -> AppResult<()> {
    require_admin(tx, team_id, caller)?;
    // Tasks are not a foreign key of the team; projects cascade to them.
    diesel::delete(teams::table.find(team_id.to_string())).execute(tx.conn())?;
    log.append(tx, caller, NewEntry::new(team_id, "team.deleted"))?;
    Ok(())
}

fn member_of(row: (String, String, i32, i64)) -> AppResult<Member> {
    Ok(Member {
        user: core_models::UserRef { id: id::from_stored("team_members.user_id", &row.0)?, display_name: row.1 },
        role: Role::from_rank(row.2).ok_or_else(|| id::corrupt("team_members.role", &row.2.to_string()))?,
        joined_at: time::from_millis(row.3),
    })
}

/// The upper bound of the keys that start with `prefix`: nothing a key can hold sorts
/// after U+10FFFF.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// A boxed select of team members with their users.
type MembersQuery = diesel::dsl::IntoBoxed<'static, diesel::dsl::InnerJoin<team_members::table, users::table>, Backend>;

/// The members a list shows (all, or those whose name starts with `name_prefix`), in no
/// order and before its cursor: what its pages read and its `count=true` counts.
fn listed_members(team_id: Uuid, name_prefix: Option<&str>) -> MembersQuery {
    let mut q: MembersQuery = team_members::table.inner_join(users::table).into_boxed();
    q = q.filter(team_members::team_id.eq(team_id.to_string()));
    if let Some(prefix) = name_prefix {
        // `team_members_by_name (team_id, name_key, user_id)`: the team's slice of the names
        // that start with the prefix; only those matches are put in user-id order.
        let key = prefix.to_ascii_lowercase();
        q = q.filter(team_members::name_key.ge(key.clone())).filter(team_members::name_key.lt(prefix_end(&key)));
    }
    q
}

/// The query of a page of members (see [`members`]).
pub(crate) fn members_query(
    team_id: Uuid,
    name_prefix: Option<&str>,
    paging: &IdPaging,
) -> impl diesel::query_builder::QueryFragment<storage::Backend>
       + diesel::query_dsl::LoadQuery<'static, DbConn, (String, String, i32, i64)> {
    let mut q = listed_members(team_id, name_prefix).select((
        team_members::user_id,
        users::display_name,
        team_members::role,
        team_members::joined_at,
    ));
    if let Some(after) = paging.after() {
        q = q.filter(team_members::user_id.gt(after));
    }
    q.order(team_members::user_id.asc()).limit(paging.fetch())
}

/// The members, in user-id order; with `name_prefix`, only those whose display name starts
/// with it, ignoring (ASCII) case.
pub fn members(
    conn: &mut DbConn,
    caller: &Caller,
    team_id: Uuid,
    name_prefix: Option<&str>,
    paging: &IdPaging,
) -> AppResult<Page<Member>> {
    require_member(conn, team_id, caller)?;
    let rows: Vec<(String, String, i32, i64)> = members_query(team_id, name_prefix, paging).load(conn)?;
    let members = rows.into_iter().map(member_of).collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| count_up_to(conn, listed_members(team_id, name_prefix), most))?;
    Ok(paging.page(members, |m| m.user.id.to_string()).with_total(total))
}

fn member(conn: &mut DbConn, team_id: Uuid, user: Uuid) -> AppResult<Member> {
    let row: (String, String, i32, i64) = team_members::table
        .inner_join(users::table)
        .filter(team_members::team_id.eq(team_id.to_string()))
        .filter(team_members::user_id.eq(user.to_string()))
        .select((team_members::user_id, users::display_name, team_members::role, team_members::joined_at))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("member"))?;
    member_of(row)
}

/// Adds a user (admins). 409 if already a member; 422 for an unknown user.
pub fn add_member(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    team_id: Uuid,
    new: NewMember,
) -> AppResult<Member> {
    let (user, role) = new.validate()?;
    require_admin(tx, team_id, caller)?;
    if role_of(tx, team_id, user)?.is_some() {
        return Err(AppError::Conflict("the user is already a member of the team".into()));
    }
    insert_member(tx, team_id, user, role, time::to_millis(time::now()))?;
    let added = member(tx, team_id, user)?;
    let details = Details::new().with("user_id", user).with("user", &added.user).with("role", role);
    log.append(tx, caller, NewEntry::new(team_id, "member.added").details(details))?;
    Ok(added)
}

fn admins(conn: &mut DbConn, team_id: Uuid) -> AppResult<i64> {
    Ok(team_members::table
        .filter(team_members::team_id.eq(team_id.to_string()))
        .filter(team_members::role.eq(Role::Admin.rank()))
        .count()
        .get_result(conn)?)
}

fn last_admin() -> AppError {
    AppError::Conflict("a team keeps at least one admin: make someone else admin first".into())
}

/// Changes a member's role (admins). Demoting the last admin is 409.
pub fn change_role(
    tx: &mut Tx<'_>,
    log: &ActivityLog,
    caller: &Caller,
    team_id: Uuid,
    user: Uuid,
    changes: MemberChanges,
) -> AppResult<Member> {
    let role = changes.validate()?;
    require_admin(tx, team_id, caller)?;
    let current = member(tx, team_id, user)?;
    if current.role == role {
        return Ok(current);
    }
    // Checked inside the write: two admins demoting each other at once are serialised.
    if current.role == Role::Admin && admins(tx, team_id)? <= 1 {
        return Err(last_admin());
    }
    diesel::update(
        team_members::table
            .filter(team_members::team_id.eq(team_id.to_string()))
            .filter(team_members::user_id.eq(user.to_string())),
    )
    .set(team_members::role.eq(role.rank()))
    .execute(tx.conn())?;
    let details = Details::new().with("user_id", user).with("user", &current.user).changed("role", current.role, role);
    log.append(tx, caller, NewEntry::new(team_id, "member.role_changed").details(details))?;
    Ok(Member { role, ..current })
}

/// Removes a member (admins), or the caller leaves. Removing the last admin is 409. The
/// member's tasks in the team are unassigned in the same write.
pub fn remove_member(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, team_id: Uuid, user: Uuid) -> AppResult<()> {
    if user != caller.id {
        require_admin(tx, team_id, caller)?;
    }
    let current = match member(tx, team_id, user) {
        Err(AppError::NotFound(_)) if user == caller.id => return Err(AppError::not_found("team")),
        other => other?,
    };
    if current.role == Role::Admin && admins(tx, team_id)? <= 1 {
        return Err(last_admin());
    }
    diesel::delete(
        team_members::table
            .filter(team_members::team_id.eq(team_id.to_string()))
            .filter(team_members::user_id.eq(user.to_string())),
    )
    .execute(tx.conn())?;
    let now = time::to_millis(time::now());
    let unassigned = diesel::update(
        project_tasks::table
            .filter(project_tasks::team_id.eq(team_id.to_string()))
            .filter(project_tasks::assignee_id.eq(user.to_string())),
    )
    .set((
        project_tasks::assignee_id.eq(None::<String>),
        project_tasks::updated_at.eq(storage::expr::greater_of("updated_at", now)),
        project_tasks::version.eq(project_tasks::version + 1),
    ))
    .execute(tx.conn())?;
    let details = Details::new()
        .with("user_id", user)
        .with("user", &current.user)
        .with("left", user == caller.id)
        .with("unassigned_tasks", unassigned);
    log.append(tx, caller, NewEntry::new(team_id, "member.removed").details(details))?;
    Ok(())
}

fn code_hash(code: &str) -> Vec<u8> {
    Sha256::digest(code.as_bytes()).to_vec()
}

/// A new invite code (admins): 256 random bits, shown once, stored as its hash.
pub fn invite(conn: &mut DbConn, caller: &Caller, team_id: Uuid, new: NewInvite) -> AppResult<Invite> {
    let (role, days) = new.validate()?;
    require_admin(conn, team_id, caller)?;
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).map_err(|e| AppError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    let code = URL_SAFE_NO_PAD.encode(bytes);
    let invite_id = id::new_id();
    let now = time::now();
    let expires_at = now + chrono::Duration::days(days);
    diesel::insert_into(team_invites::table)
        .values((
            team_invites::code_hash.eq(code_hash(&code)),
            team_invites::id.eq(invite_id.to_string()),
            team_invites::team_id.eq(team_id.to_string()),
            team_invites::role.eq(role.rank()),
            team_invites::created_by.eq(caller.id.to_string()),
            team_invites::created_at.eq(time::to_millis(now)),
            team_invites::expires_at.eq(time::to_millis(expires_at)),
        ))
        .execute(conn)?;
    Ok(Invite { id: invite_id, code, role, expires_at })
}

/// Revokes an open invite of the team (admins), named by its id or (as before ids existed)
/// by its code; unknown, other teams', expired and already revoked invites are 404.
pub fn revoke_invite(conn: &mut DbConn, caller: &Caller, team_id: Uuid, which: &str) -> AppResult<()> {
    require_admin(conn, team_id, caller)?;
    let now = time::to_millis(time::now());
    let open = team_invites::table
        .filter(team_invites::team_id.eq(team_id.to_string()))
        .filter(team_invites::revoked_at.is_null())
        .filter(team_invites::expires_at.gt(now));
    // A code is 43 base64url characters, never a UUID.
    let revoked = match Uuid::parse_str(which) {
        Ok(invite_id) => diesel::update(open.filter(team_invites::id.eq(invite_id.to_string())))
            .set(team_invites::revoked_at.eq(now))
            .execute(conn)?,
        Err(_) => diesel::update(open.filter(team_invites::code_hash.eq(code_hash(which))))
            .set(team_invites::revoked_at.eq(now))
            .execute(conn)?,
    };
    if revoked == 0 {
        return Err(AppError::not_found("invite"));
    }
    Ok(())
}

/// The team's open invites at `now`, in no order and before the list's cursor: what its
/// pages read and its `count=true` counts.
fn listed_invites(team_id: Uuid, now: i64) -> InvitesQuery {
    let q: InvitesQuery =
        team_invites::table.inner_join(users::table.on(users::id.eq(team_invites::created_by))).into_boxed();
    q.filter(team_invites::team_id.eq(team_id.to_string()))
        .filter(team_invites::id.is_not_null())
        .filter(team_invites::revoked_at.is_null())
        .filter(team_invites::expires_at.gt(now))
}

/// A boxed select of invites with the users who made them.
type InvitesQuery = diesel::dsl::IntoBoxed<
    'static,
    diesel::dsl::InnerJoinOn<team_invites::table, users::table, diesel::dsl::Eq<users::id, team_invites::created_by>>,
    Backend,
>;

/// The query of a page of open invites at `now` (see [`invites`]).
pub(crate) fn invites_query(
    team_id: Uuid,
    now: i64,
    paging: &IdPaging,
) -> impl diesel::query_builder::QueryFragment<storage::Backend>
       + diesel::query_dsl::LoadQuery<'static, DbConn, (String, i32, i64, String, String, i64)> {
    // `team_invites_by_id (team_id, id)` yields the team's invites in order.
    let mut q = listed_invites(team_id, now).select((
        team_invites::id.assume_not_null(),
        team_invites::role,
        team_invites::expires_at,
        team_invites::created_by,
        users::display_name,
        team_invites::created_at,
    ));
    if let Some(after) = paging.after() {
        q = q.filter(team_invites::id.gt(after));
    }
    q.order(team_invites::id.asc()).limit(paging.fetch())
}

/// The team's open invites (neither revoked nor expired), oldest first (admins).
pub fn invites(conn: &mut DbConn, caller: &Caller, team_id: Uuid, paging: &IdPaging) -> AppResult<Page<OpenInvite>> {
    require_admin(conn, team_id, caller)?;
    let now = time::to_millis(time::now());
    let rows: Vec<(String, i32, i64, String, String, i64)> = invites_query(team_id, now, paging).load(conn)?;
    let items = rows
        .into_iter()
        .map(|(invite_id, rank, expires_at, by, name, created_at)| {
            Ok(OpenInvite {
                id: id::from_stored("team_invites.id", &invite_id)?,
                role: Role::from_rank(rank).ok_or_else(|| id::corrupt("team_invites.role", &rank.to_string()))?,
                expires_at: time::from_millis(expires_at),
                created_by: core_models::UserRef {
                    id: id::from_stored("team_invites.created_by", &by)?,
                    display_name: name,
                },
                created_at: time::from_millis(created_at),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let total = paging.total(|most| count_up_to(conn, listed_invites(team_id, now), most))?;
    Ok(paging.page(items, |i| i.id.to_string()).with_total(total))
}

/// Joins the team of an invite code. Unknown, expired and revoked codes are 404; a member
/// accepting again changes nothing.
pub fn accept(tx: &mut Tx<'_>, log: &ActivityLog, caller: &Caller, code: &str) -> AppResult<Team> {
    let now = time::to_millis(time::now());
    let invite: Option<(String, i32)> = team_invites::table
        .filter(team_invites::code_hash.eq(code_hash(code)))
        .filter(team_invites::revoked_at.is_null())
        .filter(team_invites::expires_at.gt(now))
        .select((team_invites::team_id, team_invites::role))
        .first(tx.conn())
        .optional()?;
    let (team, rank) = invite.ok_or_else(|| AppError::not_found("invite"))?;
    let team_id = id::from_stored("team_invites.team_id", &team)?;
    if role_of(tx, team_id, caller.id)?.is_none() {
        let role = Role::from_rank(rank).unwrap_or(Role::Member);
        insert_member(tx, team_id, caller.id, role, now)?;
        let details = Details::new()
            .with("user_id", caller.id)
            .with("user", core_models::UserRef { id: caller.id, display_name: caller.display_name.clone() })
            .with("role", role)
            .with("via", "invite");
        log.append(tx, caller, NewEntry::new(team_id, "member.added").details(details))?;
    }
    get(tx, caller, team_id)
}
