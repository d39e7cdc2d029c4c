#!/usr/bin/env bash
# The typed-client check (`make client`):
#
#   clients/typescript/check.sh target/release/gateway
#
# 1. `npm ci`: the pinned openapi-typescript, openapi-fetch and TypeScript (package-lock.json);
# 2. `gateway openapi` prints the document the server serves; openapi-typescript turns it
#    into src/schema.d.ts (generated on every run, never committed: the server is the
#    source of truth, and nothing can drift);
# 3. `tsc` type-checks the example client (strict) against those types and compiles it;
# 4. the example runs against a fresh gateway: every product, end to end.
#
# When the packages are not installed and the npm registry cannot be reached, the check
# says so and exits 0 (skipped). Once it runs, any failure exits non-zero.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gateway=${1:?usage: clients/typescript/check.sh path/to/gateway}
[[ -x $gateway ]] || { echo "client: $gateway is not an executable gateway binary" >&2; exit 2; }
gateway=$(cd "$(dirname "$gateway")" && pwd)/$(basename "$gateway")
cd "$here"

stamp=node_modules/.package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    if ! npm ping >/dev/null 2>&1; then
        echo "client: SKIPPED: the npm registry cannot be reached, so openapi-typescript and" >&2
        echo "client: TypeScript cannot be installed; the typed client was NOT checked." >&2
        exit 0
    fi
    npm ci --no-audit --no-fund
    echo "$want" >"$stamp"
fi

"$gateway" openapi >openapi.json 2>/dev/null
npm run --silent generate
npm run --silent build
echo "client: the example client type-checks against the generated types"

mkdir -p "$root/target/contract"
# shellcheck source=../../scripts/gateway.sh
source "$root/scripts/gateway.sh"
# The example registers a webhook on loopback (nothing listens there; its deliveries fail
# and are retried in the background until the example deletes it).
start_gateway "$gateway" "$root/target/contract/client-gateway.log" --webhook-allow-private
node dist/example.js "$GATEWAY_URL"
echo "client: the example client ran against $GATEWAY_URL"
