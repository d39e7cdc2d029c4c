"""Schemathesis hooks of the contract check (loaded by run.sh through SCHEMATHESIS_HOOKS).

One job: `POST /auth/logout` revokes the token it is sent with. Fuzzing it with the run's
token would log the whole run out, and every later request would get 401. So logout cases
carrying the run's token get a throwaway token of the same user instead: the operation is
still tested with a real, live token, and the run's token stays valid.

Throwaway tokens are made by logging in before fuzzing starts: once the fuzzer has sent
enough wrong passwords from this address, the login limit refuses further logins (429),
as it should. When the pool runs dry the hook logs in again, and says clearly if the
server refuses.
"""

import json
import os
import threading
import urllib.request

import schemathesis

BASE_URL = os.environ["CONTRACT_BASE_URL"]
EMAIL = os.environ["CONTRACT_EMAIL"]
PASSWORD = os.environ["CONTRACT_PASSWORD"]
RUN_TOKEN = os.environ["CONTRACT_TOKEN"]
POOL_SIZE = int(os.environ.get("CONTRACT_LOGOUT_TOKENS", "40"))

LOGOUT_PATH = "/api/v1/auth/logout"


def login() -> str:
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1/auth/login",
        data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
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


_lock = threading.Lock()
_pool = [login() for _ in range(POOL_SIZE)]


def throwaway_token() -> str:
    with _lock:
        if _pool:
            return _pool.pop()
    return login()


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.method.upper() != "POST" or case.operation.path != LOGOUT_PATH:
        return
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "authorization" and value == f"Bearer {RUN_TOKEN}":
            headers[name] = f"Bearer {throwaway_token()}"
    case.headers = headers
