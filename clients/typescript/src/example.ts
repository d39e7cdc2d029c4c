// An example Corkboard client: registers two users, logs in, and uses every product
// (accounts, notes, tasks, teams, members, invites, projects, project tasks, comments,
// activity, labels, boards, bulk changes, mentions, notifications, webhooks, learning). Every call and every field it reads is typed by `schema.d.ts`, which
// openapi-typescript generates from the server's OpenAPI document (`make client`). A field
// renamed, dropped or made optional in the document makes `tsc --noEmit` fail here.
//
// Run against a server:  node dist/example.js http://127.0.0.1:8080

import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type Note = Schemas["Note"];
type Task = Schemas["Task"];
type Team = Schemas["Team"];
type Project = Schemas["Project"];
type ProjectTask = Schemas["ProjectTask"];
type TaskComment = Schemas["TaskComment"];
type ActivityEntry = Schemas["ActivityEntry"];
type Problem = Schemas["Problem"];
type ChallengeMe = Schemas["ChallengeMe"];
type Label = Schemas["Label"];
type WebhookDelivery = Schemas["WebhookDelivery"];

/** What openapi-fetch answers: the typed body of a success, or the typed problem. */
type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The body of a successful answer; a problem document becomes an exception naming it. */
async function must<T>(what: string, call: Promise<Answer<T>>): Promise<T> {
    const { data, error, response } = await call;
    if (error !== undefined || data === undefined) {
        throw new Error(`${what}: ${response.status} ${describe(error)}`);
    }
    return data;
}

/** For answers without a body (204). */
async function done(what: string, call: Promise<Answer<unknown>>): Promise<void> {
    const { error, response } = await call;
    if (!response.ok) {
        throw new Error(`${what}: ${response.status} ${describe(error)}`);
    }
}

function describe(error: unknown): string {
    const problem = error as Partial<Problem> | undefined;
    const fields = (problem?.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
    return [problem?.title, problem?.detail, fields].filter(Boolean).join(" - ");
}

/** A client that sends `token` (when set) as `Authorization: Bearer <token>`. */
function client(baseUrl: string, token?: string) {
    // Comma-list filters are arrays with `style: form, explode: false` in the document:
    // `status=todo,done`, not `status=todo&status=done` (openapi-fetch's default).
    const api = createClient<paths>({ baseUrl, querySerializer: { array: { style: "form", explode: false } } });
    if (token !== undefined) {
        const bearer: Middleware = {
            onRequest({ request }) {
                request.headers.set("Authorization", `Bearer ${token}`);
                return request;
            },
        };
        api.use(bearer);
    }
    return api;
}

type Api = ReturnType<typeof client>;

/** Registers a user and logs in; the session's token, user and expiry are typed. */
async function signUp(anonymous: Api, name: string) {
    const email = `${name.toLowerCase()}-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.com`;
    const password = "correct horse battery staple";
    const user = await must(
        "register",
        anonymous.POST("/api/v1/auth/register", { body: { email, display_name: name, password } }),
    );
    const session = await must("login", anonymous.POST("/api/v1/auth/login", { body: { email, password } }));
    const expires: Date = new Date(session.expires_at);
    console.log(`${user.display_name} <${user.email}> registered; token (${session.token_type}) until ${expires.toISOString()}`);
    return { user, token: session.token };
}

async function notes(api: Api): Promise<void> {
    const note: Note = await must(
        "create note",
        api.POST("/api/v1/notes", { body: { title: "Groceries", content: "milk, eggs" } }),
    );
    const changed = await must(
        "change note",
        api.PATCH("/api/v1/notes/{id}", {
            params: { path: { id: note.id }, header: { "If-Match": `"${note.version}"` } },
            body: { content: "milk, eggs, coffee" },
        }),
    );
    const page = await must(
        "list notes",
        api.GET("/api/v1/notes", { params: { query: { q: "milk", limit: 10, count: true } } }),
    );
    const titles: string[] = page.items.map((n) => n.title ?? "(untitled)");
    const next: string | null = page.next_cursor;
    // `total` comes with `count=true` only; `total_capped` only past 10,000 matches.
    const total: number | undefined = page.total;
    const capped: boolean = page.total_capped ?? false;
    console.log(
        `notes: v${changed.version} "${changed.content}"; search finds ${titles.join(", ")}; more: ${next !== null}; ` +
            `total ${total ?? "not counted"}${capped ? "+" : ""}`,
    );
    await done(
        "delete note",
        api.DELETE("/api/v1/notes/{id}", {
            params: { path: { id: note.id }, header: { "If-Match": `"${changed.version}"` } },
        }),
    );
}

async function tasks(api: Api): Promise<void> {
    const task: Task = await must(
        "create task",
        api.POST("/api/v1/tasks", { body: { title: "Send the invoice", due_date: "2026-12-01" } }),
    );
    const completed = await must(
        "complete task",
        api.PATCH("/api/v1/tasks/{id}", { params: { path: { id: task.id } }, body: { status: "completed" } }),
    );
    const completedAt: string | null = completed.completed_at;
    const page = await must(
        "list tasks",
        api.GET("/api/v1/tasks", { params: { query: { status: ["completed", "in_progress"], sort: "-created_at,title" } } }),
    );
    const stats = await must("task stats", api.GET("/api/v1/tasks/stats", { params: { query: {} } }));
    const read = await must("get task", api.GET("/api/v1/tasks/{id}", { params: { path: { id: task.id } } }));
    console.log(
        `tasks: "${read.title}" ${read.status} at ${completedAt}; ${page.items.length} completed; ` +
            `${stats.by_status.completed} completed, ${stats.overdue} overdue, ${stats.completed_per_bucket.length} buckets`,
    );
    await done("delete task", api.DELETE("/api/v1/tasks/{id}", { params: { path: { id: task.id } } }));
}

async function accounts(api: Api, other: string): Promise<void> {
    const me = await must("me", api.GET("/api/v1/users/me"));
    const profile = await must("profile", api.GET("/api/v1/users/{id}", { params: { path: { id: other } } }));
    const ticket = await must("stream ticket", api.POST("/api/v1/auth/stream-tickets"));
    console.log(`accounts: I am ${me.display_name}; the other user is ${profile.display_name}; ticket until ${ticket.expires_at}`);
}

async function teamsAndProjects(admin: Api, member: Api, memberId: string): Promise<void> {
    const team: Team = await must(
        "create team",
        admin.POST("/api/v1/teams", { body: { name: "Platform", description: "Infra squad" } }),
    );
    await must(
        "describe team",
        admin.PATCH("/api/v1/teams/{id}", { params: { path: { id: team.id } }, body: { description: "The infra squad" } }),
    );
    const path = { id: team.id };

    // A member joins by invite; a role is changed; the member list is typed.
    const invite = await must("invite", admin.POST("/api/v1/teams/{id}/invites", { params: { path }, body: { role: "member" } }));
    const joined: Team = await must(
        "accept invite",
        member.POST("/api/v1/invites/{code}/accept", { params: { path: { code: invite.code } } }),
    );
    await must(
        "make admin",
        admin.PATCH("/api/v1/teams/{id}/members/{user_id}", {
            params: { path: { id: team.id, user_id: memberId } },
            body: { role: "admin" },
        }),
    );
    const members = await must("members", admin.GET("/api/v1/teams/{id}/members", { params: { path } }));
    const roles = members.items.map((m) => `${m.user.display_name} (${m.role})`);
    const spare = await must("second invite", admin.POST("/api/v1/teams/{id}/invites", { params: { path }, body: {} }));
    // Open invites are listed by id (never their code), and revoked by id.
    const open = await must("open invites", admin.GET("/api/v1/teams/{id}/invites", { params: { path } }));
    if (!open.items.some((i) => i.id === spare.id)) throw new Error("the new invite is not listed by its id");
    await done(
        "revoke invite",
        admin.DELETE("/api/v1/teams/{id}/invites/{invite_id}", { params: { path: { id: team.id, invite_id: spare.id } } }),
    );

    // A project, a task assigned to the member, a comment, and the activity it all made.
    const project: Project = await must(
        "create project",
        admin.POST("/api/v1/teams/{id}/projects", { params: { path }, body: { name: "Launch" } }),
    );
    const task: ProjectTask = await must(
        "create project task",
        admin.POST("/api/v1/projects/{id}/tasks", {
            params: { path: { id: project.id } },
            body: { title: "Write the post", priority: "high", due_date: "2026-12-01", assignee_id: memberId },
        }),
    );
    const taskPath = { id: project.id, task_id: task.id };
    const started = await must(
        "start task",
        member.PATCH("/api/v1/projects/{id}/tasks/{task_id}", {
            params: { path: taskPath, header: { "If-Match": `"${task.version}"` } },
            body: { status: "in_progress" },
        }),
    );
    const comment: TaskComment = await must(
        "comment",
        member.POST("/api/v1/projects/{id}/tasks/{task_id}/comments", { params: { path: taskPath }, body: { body: "On it" } }),
    );
    await must(
        "edit comment",
        member.PATCH("/api/v1/projects/{id}/tasks/{task_id}/comments/{comment_id}", {
            params: { path: { ...taskPath, comment_id: comment.id } },
            body: { body: "On it, draft by Friday" },
        }),
    );
    const comments = await must(
        "comments",
        admin.GET("/api/v1/projects/{id}/tasks/{task_id}/comments", { params: { path: taskPath } }),
    );
    const mine = await must(
        "my team tasks",
        member.GET("/api/v1/teams/{id}/tasks", { params: { path, query: { assignee: "me", sort: "due_date" } } }),
    );
    const projectTasks = await must(
        "project tasks",
        admin.GET("/api/v1/projects/{id}/tasks", { params: { path: { id: project.id }, query: { status: ["in_progress"] } } }),
    );
    const read = await must("get project task", admin.GET("/api/v1/projects/{id}/tasks/{task_id}", { params: { path: taskPath } }));
    const assignee: string = read.assignee?.display_name ?? "nobody";
    const feed = await must("team activity", admin.GET("/api/v1/teams/{id}/activity", { params: { path } }));
    const history = await must(
        "task activity",
        admin.GET("/api/v1/projects/{id}/tasks/{task_id}/activity", { params: { path: taskPath } }),
    );
    const actions = (entries: ActivityEntry[]) => entries.map((e) => `${e.action} by ${e.actor.display_name}`);
    // `action` is an enum and `details` has typed keys: a status change reads as `{from, to}`.
    const statusChange = history.items.find((e) => e.action === "task.status_changed");
    const change = statusChange?.details.status;
    const fromTo = typeof change === "object" && change !== null ? `${change.from} -> ${change.to}` : "none";
    if (fromTo !== "todo -> in_progress") {
        throw new Error(`task.status_changed details: expected todo -> in_progress, got ${fromTo}`);
    }
    const projects = await must("projects", admin.GET("/api/v1/teams/{id}/projects", { params: { path } }));
    const teams = await must("teams", member.GET("/api/v1/teams"));
    const current = await must("get team", member.GET("/api/v1/teams/{id}", { params: { path } }));
    const archived = await must(
        "archive project",
        admin.PATCH("/api/v1/projects/{id}", { params: { path: { id: project.id } }, body: { archived: true } }),
    );
    const again = await must("get project", admin.GET("/api/v1/projects/{id}", { params: { path: { id: project.id } } }));

    console.log(`team "${current.name}" (${current.description ?? "no description"}), joined as ${joined.my_role}; members: ${roles.join(", ")}`);
    console.log(
        `project "${again.name}" archived: ${archived.archived}; ${projects.items.length} project(s), member of ${teams.items.length} team(s)`,
    );
    console.log(
        `task "${read.title}" ${started.status}/${read.priority} for ${assignee}, due ${read.due_date ?? "never"}; ` +
            `${comments.items.length} comment(s), ${mine.items.length} assigned to me, ${projectTasks.items.length} in progress`,
    );
    console.log(`team activity: ${actions(feed.items).join(", ")}`);
    console.log(`task activity: ${actions(history.items).join(", ")}; status ${fromTo}`);

    // An archived project is read only: a write under it is 409 until an admin unarchives it.
    const commentPath = { path: { ...taskPath, comment_id: comment.id } };
    const frozen = await member.DELETE("/api/v1/projects/{id}/tasks/{task_id}/comments/{comment_id}", { params: commentPath });
    if (frozen.response.status !== 409) throw new Error(`a write under an archived project got ${frozen.response.status}`);
    await must(
        "unarchive project",
        admin.PATCH("/api/v1/projects/{id}", { params: { path: { id: project.id } }, body: { archived: false } }),
    );
    await done(
        "delete comment",
        member.DELETE("/api/v1/projects/{id}/tasks/{task_id}/comments/{comment_id}", { params: commentPath }),
    );
    await done("delete project task", admin.DELETE("/api/v1/projects/{id}/tasks/{task_id}", { params: { path: taskPath } }));
    await done("delete project", admin.DELETE("/api/v1/projects/{id}", { params: { path: { id: project.id } } }));
    await done(
        "leave team",
        member.DELETE("/api/v1/teams/{id}/members/{user_id}", { params: { path: { id: team.id, user_id: memberId } } }),
    );
    await done("delete team", admin.DELETE("/api/v1/teams/{id}", { params: { path } }));
}

/** Working together (API section 7): a label, a board (positions and a move), a bulk
 * change, a mention and the notifications it all makes, and a webhook (registered with its
 * secret, pinged, its deliveries listed, deleted). */
async function collaboration(admin: Api, member: Api, memberId: string): Promise<void> {
    const team: Team = await must("create team", admin.POST("/api/v1/teams", { body: { name: "Board" } }));
    const path = { id: team.id };
    await must("add member", admin.POST("/api/v1/teams/{id}/members", { params: { path }, body: { user_id: memberId } }));
    const urgent: Label = await must(
        "create label",
        admin.POST("/api/v1/teams/{id}/labels", { params: { path }, body: { name: "urgent", color: "#d73a4a" } }),
    );
    const project: Project = await must("create project", admin.POST("/api/v1/teams/{id}/projects", { params: { path }, body: { name: "Board" } }));
    const tasksPath = { id: project.id };
    const created: ProjectTask[] = [];
    for (const title of ["Design", "Build", "Ship"]) {
        created.push(
            await must(
                "create board task",
                admin.POST("/api/v1/projects/{id}/tasks", { params: { path: tasksPath }, body: { title, label_ids: [urgent.id] } }),
            ),
        );
    }
    const [design, build, ship] = created as [ProjectTask, ProjectTask, ProjectTask];

    // "Ship" dropped above "Design": the board reads in the order the move describes.
    const moved: ProjectTask = await must(
        "move task",
        admin.POST("/api/v1/projects/{id}/tasks/{task_id}/move", {
            params: { path: { id: project.id, task_id: ship.id } },
            body: { before_id: design.id },
        }),
    );
    const board = await must(
        "board column",
        admin.GET("/api/v1/projects/{id}/tasks", { params: { path: tasksPath, query: { status: ["todo"], sort: "position" } } }),
    );
    const order = board.items.map((t) => t.title).join(", ");
    if (order !== "Ship, Design, Build") throw new Error(`the column after the move: ${order}`);

    // One bulk change: both tasks assigned to the member, made urgent, the label taken off.
    const changed: ProjectTask[] = await must(
        "bulk change",
        admin.PATCH("/api/v1/projects/{id}/tasks", {
            params: { path: tasksPath },
            body: { ids: [design.id, build.id], changes: { priority: "urgent", assignee_id: memberId, remove_label_ids: [urgent.id] } },
        }),
    );
    const labelled = await must(
        "labelled tasks",
        admin.GET("/api/v1/projects/{id}/tasks", { params: { path: tasksPath, query: { label: [urgent.id] } } }),
    );
    const mention = await must(
        "mention",
        admin.POST("/api/v1/projects/{id}/tasks/{task_id}/comments", {
            params: { path: { id: project.id, task_id: ship.id } },
            body: { body: `<@${memberId}> can you take this one too?` },
        }),
    );

    // The member's notifications: the mention first (newest), then the two assignments.
    const inbox = await must("notifications", member.GET("/api/v1/me/notifications", { params: { query: { unread: true, count: true } } }));
    const kinds = inbox.items.map((n) => `${n.kind} (${n.activity.action})`).join(", ");
    if (inbox.total !== 3 || inbox.items[0]?.kind !== "mentioned") throw new Error(`notifications: ${inbox.total}: ${kinds}`);
    await done("mark read", member.POST("/api/v1/me/notifications/read", { body: { all: true } }));
    const unread = await must("unread", member.GET("/api/v1/me/notifications", { params: { query: { unread: true, count: true } } }));

    // A webhook: its secret is in the answer to the registration only.
    const hook = await must(
        "register webhook",
        admin.POST("/api/v1/teams/{id}/webhooks", {
            params: { path },
            body: { url: "http://127.0.0.1:9/corkboard", events: ["task.*", "comment.created"], description: "CI" },
        }),
    );
    const secret: string = hook.secret;
    const ping: WebhookDelivery = await must("ping webhook", admin.POST("/api/v1/webhooks/{id}/ping", { params: { path: { id: hook.id } } }));
    const deliveries = await must("deliveries", admin.GET("/api/v1/webhooks/{id}/deliveries", { params: { path: { id: hook.id } } }));
    const listed = await must("webhooks", admin.GET("/api/v1/teams/{id}/webhooks", { params: { path } }));
    await done("delete webhook", admin.DELETE("/api/v1/webhooks/{id}", { params: { path: { id: hook.id } } }));

    console.log(
        `board: ${order} (moved "${moved.title}" to ${moved.position}); bulk: ${changed.map((t) => `${t.title} ${t.priority}`).join(", ")}; ` +
            `"${urgent.name}" on ${labelled.items.length} task(s); mentioned ${mention.mentions.map((m) => m.display_name).join(", ")}`,
    );
    console.log(`notifications: ${kinds}; unread after marking: ${unread.total ?? 0}`);
    console.log(
        `webhook ${hook.url} (${listed.items.length} registered, secret ${secret.slice(0, 6)}...): ping ${ping.action}, ` +
            `${deliveries.items.length} delivery(ies) listed`,
    );
    await done("delete team", admin.DELETE("/api/v1/teams/{id}", { params: { path } }));
}

/** SkillSync: write a challenge and a path, enrol, complete and rate it, read it back
 * (`me`, the caller's own rating and completion), withdraw the rating, read progress. */
async function learning(api: Api): Promise<void> {
    const challenge = await must(
        "create challenge",
        api.POST("/api/v1/learning/challenges", {
            body: { title: "Reverse a linked list", difficulty: "beginner", topic: "algorithms", tags: ["Lists", "python"] },
        }),
    );
    const path = await must(
        "create path",
        api.POST("/api/v1/learning/paths", {
            body: { title: "Data structures", topic: "algorithms", challenge_ids: [challenge.id] },
        }),
    );
    const byId = { params: { path: { id: challenge.id } } };
    await must("enrol", api.PUT("/api/v1/learning/paths/{id}/enrollment", { params: { path: { id: path.id } } }));
    const completion = await must(
        "complete challenge",
        api.PUT("/api/v1/learning/challenges/{id}/completion", { ...byId, body: { solution: "prev, cur = cur, prev" } }),
    );
    const rating = await must("rate challenge", api.PUT("/api/v1/learning/challenges/{id}/rating", { ...byId, body: { stars: 4 } }));
    const rated = await must("get challenge", api.GET("/api/v1/learning/challenges/{id}", byId));
    // `me` is the caller's own part: always present (`null` without a login), typed
    // `{completed_at: string | null, stars: number | null}`. A field renamed, made optional
    // or retyped in the document fails these assignments under `strict`.
    const me: ChallengeMe | null = rated.me;
    const myStars: number | null = me === null ? null : me.stars;
    const doneAt: string | null = me === null ? null : me.completed_at;
    if (myStars !== 4 || doneAt === null) {
        throw new Error(`challenge me: expected 4 stars and a completion, got ${JSON.stringify(me)}`);
    }
    const listed = await must("browse challenges", api.GET("/api/v1/learning/challenges", { params: { query: { completed: true } } }));
    const listedMe: ChallengeMe | null = listed.items[0]?.me ?? null;
    if (listedMe?.stars !== 4) {
        throw new Error(`challenge list me: expected 4 stars, got ${JSON.stringify(listedMe)}`);
    }
    const ownRating = await must("own rating", api.GET("/api/v1/learning/challenges/{id}/rating", byId));
    const ownCompletion = await must("own completion", api.GET("/api/v1/learning/challenges/{id}/completion", byId));
    const stars: number = ownRating.stars;
    const solution: string | null | undefined = ownCompletion.solution;
    await done("withdraw rating", api.DELETE("/api/v1/learning/challenges/{id}/rating", byId));
    const withdrawn = await must("get challenge again", api.GET("/api/v1/learning/challenges/{id}", byId));
    if (withdrawn.me?.stars !== null || withdrawn.rating.count !== 0) {
        throw new Error(`withdrawn rating: expected no stars and no ratings, got ${JSON.stringify(withdrawn.me)}`);
    }
    const progress = await must(
        "path progress",
        api.GET("/api/v1/learning/paths/{id}/progress", { params: { path: { id: path.id } } }),
    );
    const mine = await must("my progress", api.GET("/api/v1/learning/me/progress"));
    const first = progress.challenges[0];

    console.log(
        `challenge "${rated.title}" [${rated.tags.join(", ")}] ${rated.difficulty}: completed ${completion.completed_at}, ` +
            `rated ${rating.stars}, average ${rated.rating.average ?? "none"} of ${rated.rating.count}`,
    );
    console.log(
        `me: done ${doneAt}, ${myStars} star(s); own rating ${stars} at ${ownRating.rated_at}, own solution ` +
            `"${solution ?? ""}"; after withdrawing: ${withdrawn.rating.count} rating(s)`,
    );
    console.log(
        `path "${progress.path.title}": ${progress.completed_challenges}/${progress.total_challenges} ` +
            `(${progress.percent_complete}%), first done: ${first?.completed ?? false}; enrolled in ${mine.items.length} path(s)`,
    );
}

async function main(): Promise<void> {
    const baseUrl = process.argv[2] ?? process.env["CORKBOARD_URL"] ?? "http://127.0.0.1:8080";
    const anonymous = client(baseUrl);
    const health = await must("health", anonymous.GET("/healthz"));
    console.log(`server ${baseUrl}: ${health.status}`);

    const ada = await signUp(anonymous, "Ada");
    const bob = await signUp(anonymous, "Bob");
    const asAda = client(baseUrl, ada.token);
    const asBob = client(baseUrl, bob.token);

    await accounts(asAda, bob.user.id);
    await notes(asAda);
    await tasks(asAda);
    await teamsAndProjects(asAda, asBob, bob.user.id);
    await collaboration(asAda, asBob, bob.user.id);
    await learning(asAda);

    await done("logout", asBob.POST("/api/v1/auth/logout"));
    const { response } = await asBob.GET("/api/v1/users/me");
    if (response.status !== 401) {
        throw new Error(`a revoked token must get 401, got ${response.status}`);
    }
    console.log("logged out: the revoked token gets 401");
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
});
