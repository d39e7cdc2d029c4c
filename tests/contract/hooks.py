"""Schemathesis hooks of the contract check (loaded by run.sh through SCHEMATHESIS_HOOKS).

Each hook does one thing a JSON Schema cannot say, and touches only what it must.

1. Logout. `POST /auth/logout` revokes the token it is sent with. Fuzzing it with the run's
token would log the whole run out, and every later request would get 401. So logout cases
carrying the run's token get a throwaway token of the same user instead: the operation is
still tested with a real, live token, and the run's token stays valid.

Throwaway tokens are made by logging in before fuzzing starts: once the fuzzer has sent
enough wrong passwords from this address, the login limit refuses further logins (429),
as it should. When the pool runs dry the hook logs in again, and says clearly if the
server refuses.

2. Cursors and event ids. A list's `cursor` is valid only if that list issued it (it encodes the last
row's sort key and the sort it was made under); the document can only say "a string". A
string the fuzzer made up is refused with 422, rightly. So a *positive* case (one
Schemathesis expects to be accepted) does not send a made-up cursor; negative cases keep
theirs, so refusing garbage cursors is still tested, and the client and API tests page
with real ones. The event stream's `Last-Event-ID` header and `last_event_id` parameter
are the same kind of token (the id of an event of that stream).

3. Ranges. `from`/`to` (task stats), `due_from`/`due_to` and `created_from`/`created_to`
(task lists) must not be reversed: the server answers 422 naming the parameter, rightly,
and JSON Schema cannot relate two parameters. A positive case with a reversed pair gets
it swapped into order (task stats' `to` defaults to today, so a later `from` alone gets
`to` set to it). Task stats also hold at most 1000 buckets (days or weeks): a
positive case over a longer range gets `from` moved up to the 1000th bucket before `to`.

4. References checked against data. Some body fields name other records, and the server
checks them against its data with the documented 422 naming the field: `assignee_id` of a
project task must be a member of the team (API.md: "An assignee must be a member of the
team (422)"), `user_id` of `POST /teams/{id}/members` must be a registered user, and the
`challenge_ids` of a learning path must be existing challenges. A schema can only say
"a uuid"; a made-up uuid is refused, rightly. So a positive case gets real references in
those fields: the run's own user as assignee (a member of every team it can reach; any
other team is a 404), a second registered user as the new member (409 once it is one),
and challenges a second user wrote (so the fuzzer, signed in as the run's user, cannot
delete them). Negative cases keep their values, so refusing bad references is still
tested, and tests/api covers the 422s one by one.

5. Sessions. `POST /auth/logout-all` revokes every token of its caller, and
`DELETE /auth/sessions/{id}` one of them (the stateful phase feeds it ids from
`GET /auth/sessions`, the run's own session among them). A wrong `current_password` of
`POST /auth/password` counts as a failed login of its caller. So these operations, when
they carry the run's token, run as users of their own instead: each revoking case takes
the token of a throwaway user registered before fuzzing starts (once the fuzzer's wrong
passwords reach the login limit, no login from this address succeeds, so none can be
made later; when the pool runs dry a case gets a revoked token, and its 401 is a
documented answer), and password changes use a "password" user's token (a fuzzer never
guesses its password, so that token stays valid; its 403s and 429s are documented).

6. Sort keys. `sort` takes a comma list of keys (`status,-due_date`), each field at most
once: `title,-title` is refused with 422, rightly, and the document's pattern cannot say
"no field twice". A positive case keeps the first key of each field. (Comma-list filters
are arrays of their enum with `style: form, explode: false`; Schemathesis joins them with
commas itself, and repeats are fine: the server takes `status=todo,todo`.)

7. Idempotency keys. An `Idempotency-Key` names one request: the same key sent again with
another body or path is refused with 422 naming it, rightly, and a fuzzer reuses short
made-up keys across operations. A positive case gets a fresh key of its own (a UUID);
negative cases keep theirs, so malformed keys are still refused.

8. Event streams. A stream (`GET /me/events`, and `GET /teams/{id}/events` for a team the
run made) answers 200 and then stays open for as long as its token is valid: read to its
end, it would hold the run until the request timeout. A stream ends when its token is
revoked, so a case that carries the run's token gets a token of its own from a small pool
logged in before fuzzing starts, revoked (logged out) a second after the case is sent:
the stream answers 200, sends its greeting and ends, as a client whose session ends sees
it. Once the pool is used up, cases get a revoked token and a documented 401.

9. Rules of section 7 that a schema cannot state. In positive cases: `label_ids`,
`add_label_ids` and `remove_label_ids` become `[]` (a label must be one of the task's team,
else 422, rightly); a bulk change's `ids` lose their repeats (each task once, else 422
naming the repeat); `POST /me/notifications/read` sends either its `ids` or `{"all":
true}` (one of the two, else 422); a webhook's `url` becomes a receiver on loopback, which
the run's gateway accepts (`--webhook-allow-private`: generated hosts do not resolve, and
an unresolvable host is 422, rightly); a webhook's `events` become known actions, and a
bulk change changes something (`changes` names at least one field) and, when it replaces
the labels (`label_ids`), does not also edit them.

10. Searches. `q` takes at most 16 words (more is 422 naming it, rightly: each word is an
index probe), which a schema cannot count: a positive case's `q` keeps its first 8 runs of
word characters.
"""

import datetime
import json
import os
import re
import threading
import urllib.request
import uuid
from collections.abc import MutableMapping

import schemathesis

BASE_URL = os.environ["CONTRACT_BASE_URL"]
EMAIL = os.environ["CONTRACT_EMAIL"]
PASSWORD = os.environ["CONTRACT_PASSWORD"]
RUN_TOKEN = os.environ["CONTRACT_TOKEN"]
POOL_SIZE = int(os.environ.get("CONTRACT_LOGOUT_TOKENS", "40"))

LOGOUT_PATH = "/api/v1/auth/logout"


def login(email: str = EMAIL) -> str:
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1/auth/login",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["token"]
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"contract hooks: logging in for a throwaway logout token failed with {error.code} "
            f"({error.read().decode(errors='replace')}); raise CONTRACT_LOGOUT_TOKENS"
        ) from error


def call(method: str, path: str, body=None, token: str | None = None):
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


RUN_USER_ID = call("GET", "/users/me", token=RUN_TOKEN)["id"]
_other_email = f"other-{EMAIL}"
OTHER_USER_ID = call(
    "POST",
    "/auth/register",
    {"email": _other_email, "display_name": "Contract other", "password": PASSWORD},
)["id"]
_other_token = call("POST", "/auth/login", {"email": _other_email, "password": PASSWORD})["token"]
CHALLENGE_IDS = [
    call(
        "POST",
        "/learning/challenges",
        {"title": f"Contract challenge {i}", "difficulty": "beginner", "topic": "contract"},
        token=_other_token,
    )["id"]
    for i in range(5)
]


def register(email: str, name: str) -> str:
    return call("POST", "/auth/register", {"email": email, "display_name": name, "password": PASSWORD})["id"]


PASSWORD_EMAIL = f"password-{EMAIL}"
register(PASSWORD_EMAIL, "Contract password")
PASSWORD_TOKEN = login(PASSWORD_EMAIL)


def session_user_token(n: int) -> str:
    email = f"sessions{n}-{EMAIL}"
    register(email, f"Contract sessions {n}")
    return login(email)


_session_pool = [session_user_token(n) for n in range(int(os.environ.get("CONTRACT_SESSION_USERS", "60")))]
_revoked = []


def revocable_token() -> str:
    """A live token of a user nobody else uses (see 5.); a revoked one once they are gone."""
    with _lock:
        if _session_pool:
            token = _session_pool.pop()
            _revoked.append(token)
            return token
        return _revoked[-1]
REVOKING = {("POST", "/api/v1/auth/logout-all"), ("DELETE", "/api/v1/auth/sessions/{id}")}
PASSWORD_CHANGE = ("POST", "/api/v1/auth/password")

MEMBERS_POST = re.compile(r"^/api/v1/teams/\{[^}]+\}/members$")


def real_references(case):
    body = case.body
    if not isinstance(body, dict):
        return
    path, method = case.operation.path, case.operation.method.upper()
    if isinstance(body.get("assignee_id"), str):
        body["assignee_id"] = RUN_USER_ID
    if method == "POST" and MEMBERS_POST.match(path) and isinstance(body.get("user_id"), str):
        body["user_id"] = OTHER_USER_ID
    ids = body.get("challenge_ids")
    if isinstance(ids, list) and path.startswith("/api/v1/learning/paths"):
        body["challenge_ids"] = CHALLENGE_IDS[: min(len(ids), len(CHALLENGE_IDS))]
    section_seven(body, path, method)


def section_seven(body, path, method):
    """Positive bodies of the section 7 operations made valid beyond their schema (see 9.)."""
    for holder in (body, body.get("changes")):
        if isinstance(holder, dict):
            for field in ("label_ids", "add_label_ids", "remove_label_ids"):
                if isinstance(holder.get(field), list):
                    holder[field] = []
    if method == "PATCH" and path == "/api/v1/projects/{id}/tasks" and isinstance(body.get("ids"), list):
        body["ids"] = list(dict.fromkeys(body["ids"]))
    if method == "POST" and path == "/api/v1/me/notifications/read":
        ids = body.get("ids")
        body.clear()
        if isinstance(ids, list):
            body["ids"] = ids
        else:
            body["all"] = True
    if path in ("/api/v1/teams/{id}/webhooks", "/api/v1/webhooks/{id}"):
        if isinstance(body.get("url"), str):
            body["url"] = "http://127.0.0.1:9/contract"
        if isinstance(body.get("events"), list):
            body["events"] = ["task.*", "comment.created"]
    changes = body.get("changes")
    if isinstance(changes, dict) and not changes and "ids" in body:
        changes["priority"] = "low"
    if isinstance(changes, dict) and isinstance(changes.get("label_ids"), list):
        changes.pop("add_label_ids", None)
        changes.pop("remove_label_ids", None)


def few_search_words(case):
    """A positive case's `q` with at most 8 runs of word characters (see 10.)."""
    query = case.query
    if isinstance(query, dict) and isinstance(query.get("q"), str):
        query["q"] = " ".join(re.findall(r"\w+", query["q"])[:8])


_lock = threading.Lock()
_pool = [login() for _ in range(POOL_SIZE)]


def throwaway_token() -> str:
    with _lock:
        if _pool:
            return _pool.pop()
    return login()


STREAMS = {("GET", "/api/v1/me/events"), ("GET", "/api/v1/teams/{id}/events")}
_stream_pool = [login() for _ in range(int(os.environ.get("CONTRACT_STREAM_TOKENS", "15")))]
_stream_used = []


def logout(token: str):
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1/auth/logout", headers={"authorization": f"Bearer {token}"}, method="POST"
    )
    try:
        urllib.request.urlopen(request, timeout=30).close()
    except urllib.error.URLError:
        pass  # already revoked, or the server is going away: the stream ends either way


def stream_token() -> str:
    """A token of the run's user that is logged out a second from now (see 8.)."""
    with _lock:
        token = _stream_pool.pop() if _stream_pool else None
        if token is None:
            return _stream_used[-1] if _stream_used else "revoked"
        _stream_used.append(token)
    threading.Timer(1.0, logout, args=(token,)).start()
    return token


RANGES = [("from", "to"), ("due_from", "due_to"), ("created_from", "created_to")]


def is_positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context, case, kwargs):
    operation = (case.operation.method.upper(), case.operation.path)
    if operation == ("POST", LOGOUT_PATH):
        use_throwaway_token(case)
    elif operation in REVOKING:
        use_throwaway_token(case, revocable_token)
    elif operation == PASSWORD_CHANGE:
        use_throwaway_token(case, lambda: PASSWORD_TOKEN)
    elif operation in STREAMS:
        use_throwaway_token(case, stream_token)
    if not is_positive(case):
        return
    real_references(case)
    few_search_words(case)
    # Case.headers is a case-insensitive mapping, not a dict.
    if isinstance(case.headers, MutableMapping):
        for name in [n for n in case.headers if n.lower() == "last-event-id"]:
            del case.headers[name]
        for name in [n for n in case.headers if n.lower() == "idempotency-key"]:
            case.headers[name] = str(uuid.uuid4())
    if isinstance(case.query, MutableMapping):
        if isinstance(case.query.get("sort"), str):
            case.query["sort"] = one_key_per_field(case.query["sort"])
        case.query.pop("cursor", None)
        case.query.pop("last_event_id", None)
        for low, high in RANGES:
            a, b = case.query.get(low), case.query.get(high)
            if isinstance(a, str) and isinstance(b, str) and a > b:
                case.query[low], case.query[high] = b, a
        # Task stats' `to` defaults to today (UTC): a `from` after today alone is reversed too.
        start = case.query.get("from")
        if case.operation.path == STATS_PATH and isinstance(start, str) and case.query.get("to") is None:
            if start[:10] > datetime.datetime.now(datetime.timezone.utc).date().isoformat():
                case.query["to"] = start
        if case.operation.path == STATS_PATH:
            bound_stats_range(case.query)


def one_key_per_field(sort: str) -> str:
    """`sort` with the first key of each field only: `title,-title,status` -> `title,status`."""
    seen, keys = set(), []
    for key in sort.split(","):
        field = key.strip().lstrip("-+")
        if field not in seen:
            seen.add(field)
            keys.append(key)
    return ",".join(keys)


STATS_PATH = "/api/v1/tasks/stats"
MAX_BUCKETS = 1000


def bound_stats_range(query):
    try:
        start = datetime.date.fromisoformat(query["from"])
        end = datetime.date.fromisoformat(query.get("to") or datetime.date.today().isoformat())
    except (KeyError, TypeError, ValueError):
        return
    days = MAX_BUCKETS * (7 if query.get("bucket") == "week" else 1) - 7
    if (end - start).days >= days:
        query["from"] = (end - datetime.timedelta(days=days - 1)).isoformat()


def use_throwaway_token(case, token=throwaway_token):
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "authorization" and value == f"Bearer {RUN_TOKEN}":
            headers[name] = f"Bearer {token()}"
    case.headers = headers
