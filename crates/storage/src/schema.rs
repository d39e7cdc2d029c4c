//! The one Diesel schema of Corkboard. Written by hand to match `migrations/sqlite/` (and
//! `migrations/postgres/`, which produce the same tables); a test
//! (`schema_matches_migrations`) checks that every table and column here exists after
//! migrating, and `tests/schema_match.rs` that PostgreSQL's types are the ones declared here.
//!
//! Timestamps are `BigInt` milliseconds since the epoch (see `core_models::time`); ids are
//! UUID text. Tables keep an integer rowid (`seq`) where FTS5 indexes them.

diesel::table! {
    /// Sticky notes. `seq` is the rowid FTS5 (`notes_fts`) indexes; `id` is the public id.
    /// `owner_id` is the board: NULL for the shared anonymous board, else the owner's id.
    /// `version` is 1 at creation and one more on every change (the `ETag`).
    notes (seq) {
        seq -> BigInt,
        id -> Text,
        owner_id -> Nullable<Text>,
        title -> Nullable<Text>,
        content -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

// -- tasks (freelancer task tracker) --

diesel::table! {
    /// Freelancer tasks. `seq` is the rowid FTS5 (`tasks_fts`) indexes; `id` is the public
    /// id. `status` is the workflow rank (0 pending, 1 in_progress, 2 completed); `due_date`
    /// is `YYYY-MM-DD` text; `owner_id` is the board: NULL for the shared anonymous board,
    /// else the owner's id. `version` is 1 at creation and one more on every change.
    tasks (seq) {
        seq -> BigInt,
        id -> Text,
        owner_id -> Nullable<Text>,
        title -> Text,
        description -> Nullable<Text>,
        status -> Integer,
        due_date -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        completed_at -> Nullable<BigInt>,
        version -> BigInt,
    }
}

diesel::table! {
    /// Task counts per (owner, status, due key), kept by triggers on `tasks`; `owner_key` is
    /// `coalesce(owner_id, '')`. What `GET /tasks/stats` sums instead of counting tasks.
    task_counts (owner_key, status, due_key) {
        owner_key -> Text,
        status -> Integer,
        due_key -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    /// Completions per owner and UTC day (days since the epoch), kept by triggers on `tasks`.
    task_completions (owner_key, day) {
        owner_key -> Text,
        day -> BigInt,
        n -> BigInt,
    }
}

// -- idempotency keys (API section 1) --

diesel::table! {
    /// `Idempotency-Key`s of POSTs with the response each got, per caller (`scope`: the
    /// user id, '' for the anonymous board), for 24 hours; see `crate::idempotency`.
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        fingerprint -> Text,
        claim -> Text,
        written -> Bool,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> BigInt,
        claimed_at -> BigInt,
    }
}

// -- accounts (users, tokens) --

diesel::table! {
    /// Accounts. `email` is shown as typed; `email_normalized` (lower case, UNIQUE) is what
    /// logins look up and what makes emails unique case-insensitively. `password_hash` is an
    /// Argon2id PHC string and never leaves `crates/accounts`.
    users (id) {
        id -> Text,
        email -> Text,
        email_normalized -> Text,
        display_name -> Text,
        password_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    /// Bearer tokens (sessions), kept only as the SHA-256 of the token (32 bytes).
    /// `revoked_at` is set by logout and the other revocations; `id` is the session's public
    /// id (set on every row since the sessions migration).
    tokens (token_hash) {
        token_hash -> Binary,
        user_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        id -> Nullable<Text>,
        last_used_at -> Nullable<BigInt>,
        user_agent -> Nullable<Text>,
        address -> Nullable<Text>,
    }
}

// -- activity log --

diesel::table! {
    /// Activity entries. `seq` increases in commit order; `details` is a JSON object text.
    activity (seq) {
        seq -> BigInt,
        team_id -> Text,
        project_id -> Nullable<Text>,
        task_id -> Nullable<Text>,
        actor_id -> Text,
        action -> Text,
        details -> Text,
        created_at -> BigInt,
        team_seq -> BigInt,
        public_id -> Text,
    }
}

diesel::table! {
    /// Each team's activity counter: the `team_seq` of its last entry, bumped inside the
    /// write that appends the next one.
    activity_counters (team_id) {
        team_id -> Text,
        last_seq -> BigInt,
        last_at -> BigInt,
    }
}

// -- team projects --

diesel::table! {
    /// Teams.
    teams (id) {
        id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Who belongs to which team; `role` 0 member, 1 admin.
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
        role -> Integer,
        joined_at -> BigInt,
        name_key -> Text,
    }
}

diesel::table! {
    /// Invite codes, kept only as their SHA-256.
    team_invites (code_hash) {
        code_hash -> Binary,
        team_id -> Text,
        role -> Integer,
        created_by -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        id -> Nullable<Text>,
    }
}

diesel::table! {
    /// A team's projects.
    projects (id) {
        id -> Text,
        team_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        archived -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        /// Bumped by every write that places a task on the board (its row lock serialises them).
        board_seq -> BigInt,
    }
}

diesel::table! {
    /// Project tasks. `status` (0 todo, 1 in_progress, 2 done) and `priority` (0 low ..
    /// 3 urgent) are ranks; `due_key`, `title_key`, `assignee_key` are generated sort keys.
    project_tasks (seq) {
        seq -> BigInt,
        id -> Text,
        team_id -> Text,
        project_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        status -> Integer,
        priority -> Integer,
        due_date -> Nullable<Text>,
        assignee_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
        /// Place in its status column on the board: a fractional key, compared as bytes.
        position -> Text,
        label_count -> Integer,
    }
}

diesel::table! {
    /// Comments on project tasks.
    task_comments (id) {
        id -> Text,
        task_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    /// Labels of a team; `name_key` is the name in lower case (unique per team).
    labels (id) {
        id -> Text,
        team_id -> Text,
        name -> Text,
        name_key -> Text,
        color -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    /// Which task carries which label.
    task_labels (task_id, label_id) {
        task_id -> Text,
        label_id -> Text,
    }
}

diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(projects -> teams (team_id));
diesel::joinable!(task_comments -> users (author_id));
diesel::allow_tables_to_appear_in_same_query!(
    teams,
    team_members,
    team_invites,
    projects,
    project_tasks,
    task_comments,
    labels,
    task_labels,
    users,
    activity
);

diesel::joinable!(activity -> users (actor_id));
diesel::joinable!(tokens -> users (user_id));
// Tables that join `users` later (authors, members) add their own pairs with `users`; one
// table may appear in several of these macros as long as no pair is listed twice.
diesel::allow_tables_to_appear_in_same_query!(users, tokens);

// ---- mentions and notifications (migration 2026-12-07-000120_notifications) ----

diesel::table! {
    /// The team members a comment mentions (`<@USER_ID>`), resolved when it is written.
    comment_mentions (comment_id, user_id) {
        comment_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    /// Each user's last notification number (and time), bumped inside the notifying write.
    notification_counters (user_id) {
        user_id -> Text,
        last_seq -> BigInt,
        last_at -> BigInt,
    }
}

diesel::table! {
    /// A user's notifications: number in the user's list, public id, kind, the activity
    /// entry (`activity.seq`) that caused it, its team, when read.
    notifications (user_id, user_seq) {
        user_id -> Text,
        user_seq -> BigInt,
        public_id -> Text,
        kind -> Text,
        activity_seq -> BigInt,
        team_id -> Text,
        read_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::joinable!(comment_mentions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(comment_mentions, users);
diesel::allow_tables_to_appear_in_same_query!(notifications, notification_counters);

// ---- accounts across gateways (migration 2026-12-06-000093_accounts_across_gateways) ----

diesel::table! {
    /// The number of the last revocation (one row, `id` = 1, made by the first revocation).
    revocation_counter (id) {
        id -> Integer,
        seq -> BigInt,
    }
}

diesel::table! {
    /// The revocation feed: each token revoked (or deleted while live) with its number, in
    /// commit order, written by triggers on `tokens`; the newest 10,000 are kept. Every
    /// gateway reads the rows after the last one it applied.
    session_revocations (seq) {
        seq -> BigInt,
        token_hash -> Binary,
    }
}

diesel::table! {
    /// Stream tickets, kept only as the SHA-256 of the ticket's bytes; `token_hash` is the
    /// session it belongs to, `used_at` is set by its one use.
    stream_tickets (ticket_hash) {
        ticket_hash -> Binary,
        token_hash -> Binary,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Failed (and in-flight) logins for the login throttle: the client address counted,
    /// the normalised email, when, and whether it still counts for its (email, address) pair.
    login_failures (id) {
        id -> BigInt,
        client -> Text,
        email -> Text,
        at -> BigInt,
        pair_counts -> Bool,
    }
}

diesel::joinable!(stream_tickets -> tokens (token_hash));
diesel::allow_tables_to_appear_in_same_query!(stream_tickets, tokens);
diesel::allow_tables_to_appear_in_same_query!(stream_tickets, users);

// ---- learning platform (migration 2026-11-26-000006_learning) ----

diesel::table! {
    challenges (seq) {
        seq -> BigInt,
        id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        difficulty -> Integer,
        topic -> Text,
        tags -> Text,
        author_id -> Text,
        rating_sum -> BigInt,
        rating_count -> BigInt,
        completion_count -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    challenge_tags (challenge_id, tag) {
        challenge_id -> Text,
        tag -> Text,
        difficulty -> Integer,
        rating_key -> BigInt,
        created_at -> BigInt,
        title_key -> Text,
    }
}

diesel::table! {
    /// A tag row's popularity sort key, apart from `challenge_tags` so that a completion
    /// rewrites this narrow row instead of a tag row with seven indexes (migration
    /// 2026-12-07-000200_tag_popularity). Kept by triggers; the count is the challenge's
    /// `completion_count`.
    challenge_tag_popularity (challenge_id, tag) {
        challenge_id -> Text,
        tag -> Text,
        completion_count -> BigInt,
    }
}

diesel::table! {
    tags (tag) {
        tag -> Text,
        challenge_count -> BigInt,
    }
}

diesel::table! {
    learning_paths (seq) {
        seq -> BigInt,
        id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        topic -> Text,
        author_id -> Text,
        challenge_count -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    path_challenges (path_id, position) {
        path_id -> Text,
        position -> BigInt,
        challenge_id -> Text,
    }
}

diesel::table! {
    enrollments (user_id, path_id) {
        user_id -> Text,
        path_id -> Text,
        enrolled_at -> BigInt,
        completed_count -> BigInt,
        last_completed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    completions (id) {
        id -> Text,
        challenge_id -> Text,
        user_id -> Text,
        solution -> Nullable<Text>,
        completed_at -> BigInt,
    }
}

diesel::table! {
    ratings (challenge_id, user_id) {
        challenge_id -> Text,
        user_id -> Text,
        stars -> Integer,
        rated_at -> BigInt,
    }
}

diesel::table! {
    challenge_comments (id) {
        id -> Text,
        challenge_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    completion_feedback (id) {
        id -> Text,
        completion_id -> Text,
        author_id -> Text,
        body -> Text,
        stars -> Nullable<Integer>,
        created_at -> BigInt,
    }
}

diesel::joinable!(challenge_comments -> users (author_id));
diesel::joinable!(completions -> users (user_id));
diesel::joinable!(completion_feedback -> users (author_id));
diesel::joinable!(completion_feedback -> completions (completion_id));
diesel::allow_tables_to_appear_in_same_query!(
    challenges,
    challenge_tags,
    challenge_tag_popularity,
    tags,
    learning_paths,
    path_challenges,
    enrollments,
    completions,
    ratings,
    challenge_comments,
    completion_feedback,
    users
);

diesel::table! {
    /// A team's webhooks (API section 7). `events` is a JSON array of actions and
    /// `prefix.*` patterns; `secret` signs (kept as is: the server must sign with it), and
    /// `previous_secret` signs beside it until `previous_secret_expires_at` after a rotation.
    webhooks (id) {
        id -> Text,
        team_id -> Text,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        active -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<BigInt>,
        failed_deliveries -> Integer,
        created_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    /// The webhook outbox: one row per delivery of an event to a webhook, written with the
    /// activity entry. `next_attempt_at` NULL: delivered or given up. The body is built
    /// from the entry `activity_seq` names when the worker claims it; `payload` holds the
    /// bodies of pings (and of deliveries written before bodies were built at send time).
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> Text,
        action -> Text,
        payload -> Nullable<Text>,
        attempts -> Integer,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<BigInt>,
        lease -> Nullable<Text>,
        delivered_at -> Nullable<BigInt>,
        created_at -> BigInt,
        activity_seq -> Nullable<BigInt>,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);

// ---- display names remembered by gateways (migration 2026-12-07-000180_display_name_version) ----

diesel::table! {
    /// The version of users' display names (one row, `id` = 1, made by the first rename or
    /// deletion of a user; 0 until then): see [`crate::names`].
    display_name_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(display_name_version, users);
