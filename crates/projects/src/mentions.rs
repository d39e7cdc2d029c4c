//! Mentions in comment bodies: `<@USER_ID>` names a team member (the id in any case).
//!
//! Mentions are resolved when a comment is written or edited, against the team's members
//! at that moment (unknown ids and non-members are ignored, the text stays as written), and
//! stored in `comment_mentions`, so reading comments never parses bodies: a page of
//! comments loads the mentions of all its comments in one query ([`of_comments`]).

use std::collections::{BTreeSet, HashMap};

use core_models::{id, AppResult, UserRef};
use diesel::prelude::*;
use storage::schema::{comment_mentions, team_members, users};
use storage::DbConn;
use uuid::Uuid;

/// Most people one comment mentions: the first this many members it names, in the order
/// of the body (later ones stay plain text), so one comment cannot fan out to a whole large
/// team.
pub const MAX_MENTIONS: usize = 50;

/// The user ids `body` mentions, each once, in the order they first appear. Only the
/// hyphenated form counts (`<@0192f4c4-...>`), upper or lower case.
pub(crate) fn parse(body: &str) -> Vec<Uuid> {
    let mut found = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let candidate = rest.get(..37).filter(|c| c.ends_with('>')).map(|c| &c[..36]);
        if let Some(user) = candidate.filter(|c| c.as_bytes()[8] == b'-').and_then(|c| Uuid::try_parse(c).ok()) {
            if !found.contains(&user) {
                found.push(user);
            }
            rest = &rest[37..];
        }
    }
    found
}

/// Which of `users` are members of `team_id` (one query), as a sorted set.
pub(crate) fn members_among(conn: &mut DbConn, team_id: Uuid, users: &[Uuid]) -> AppResult<BTreeSet<Uuid>> {
    if users.is_empty() {
        return Ok(BTreeSet::new());
    }
    let ids: Vec<String> = users.iter().map(ToString::to_string).collect();
    let rows: Vec<String> = team_members::table
        .filter(team_members::team_id.eq(team_id.to_string()))
        .filter(team_members::user_id.eq_any(ids))
        .select(team_members::user_id)
        .load(conn)?;
    rows.iter().map(|raw| id::from_stored("team_members.user_id", raw)).collect()
}

/// Stores the mentions of `comment_id`, whose body is `body`, in `team_id` (replacing what
/// it mentioned before; at most [`MAX_MENTIONS`]): returns every member it mentions now and those it did not mention
/// before, both in id order.
pub(crate) fn store(
    conn: &mut DbConn,
    team_id: Uuid,
    comment_id: Uuid,
    body: &str,
) -> AppResult<(Vec<Uuid>, Vec<Uuid>)> {
    let mentioned = parse(body);
    let members = members_among(conn, team_id, &mentioned)?;
    let now: BTreeSet<Uuid> = mentioned.into_iter().filter(|user| members.contains(user)).take(MAX_MENTIONS).collect();
    let before: Vec<String> = comment_mentions::table
        .filter(comment_mentions::comment_id.eq(comment_id.to_string()))
        .select(comment_mentions::user_id)
        .load(conn)?;
    let before: BTreeSet<Uuid> =
        before.iter().map(|raw| id::from_stored("comment_mentions.user_id", raw)).collect::<AppResult<_>>()?;
    let gone: Vec<String> = before.difference(&now).map(ToString::to_string).collect();
    if !gone.is_empty() {
        diesel::delete(
            comment_mentions::table
                .filter(comment_mentions::comment_id.eq(comment_id.to_string()))
                .filter(comment_mentions::user_id.eq_any(gone)),
        )
        .execute(conn)?;
    }
    let added: Vec<Uuid> = now.difference(&before).copied().collect();
    // One statement per new mention (the multi-engine connection has no multi-row
    // insert); a comment mentions few people.
    for user in &added {
        diesel::insert_into(comment_mentions::table)
            .values((
                comment_mentions::comment_id.eq(comment_id.to_string()),
                comment_mentions::user_id.eq(user.to_string()),
            ))
            .execute(conn)?;
    }
    Ok((now.into_iter().collect(), added))
}

/// The query of the mentions of `comments`, with names (the primary key finds them).
pub(crate) fn of_comments_query(
    comments: Vec<String>,
) -> impl diesel::query_builder::QueryFragment<storage::Backend>
       + diesel::query_dsl::LoadQuery<'static, DbConn, (String, String, String)> {
    comment_mentions::table.inner_join(users::table).filter(comment_mentions::comment_id.eq_any(comments)).select((
        comment_mentions::comment_id,
        comment_mentions::user_id,
        users::display_name,
    ))
}

/// The people each of `comments` mentions, in id order, read in one query.
pub(crate) fn of_comments(conn: &mut DbConn, comments: &[Uuid]) -> AppResult<HashMap<Uuid, Vec<UserRef>>> {
    let mut out: HashMap<Uuid, Vec<UserRef>> = HashMap::new();
    if comments.is_empty() {
        return Ok(out);
    }
    let rows = of_comments_query(comments.iter().map(ToString::to_string).collect()).load(conn)?;
    for (comment, user, display_name) in rows {
        let comment = id::from_stored("comment_mentions.comment_id", &comment)?;
        let user = UserRef { id: id::from_stored("comment_mentions.user_id", &user)?, display_name };
        out.entry(comment).or_default().push(user);
    }
    // Id order (sorted here: a page holds few, and SQL would sort them by a temporary
    // B-tree after the primary key's `IN` lookups).
    for people in out.values_mut() {
        people.sort_by_key(|p| p.id);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_parsed_in_any_case_once_each() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let body = format!(
            "hi <@{a}> and <@{}>, again <@{a}>; not <@{}> nor <@{a} > nor <{b}> nor <@{}>",
            b.to_string().to_uppercase(),
            b.simple(),
            &b.to_string()[..35]
        );
        assert_eq!(parse(&body), vec![a, b]);
        assert_eq!(parse("<@<@x>"), Vec::<Uuid>::new());
        assert_eq!(parse(&format!("<@<@{a}>")), vec![a], "a stray `<@` does not hide the next mention");
        assert!(parse("ünïcödé <@ü").is_empty(), "no panic on multi-byte text");
    }
}
