# Shell helpers of the packaging tests (sourced). They drive the real binary through its real
# interfaces: the command line, HTTP (/readyz) and MCP over Streamable HTTP (/mcp).

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

# start_coda LOG BINARY ARGS...: starts BINARY serve ARGS (which should include --listen
# 127.0.0.1:0) in the background with output in LOG; sets coda_pid and coda_url once it prints its
# URL, then waits for /readyz to answer 200.
start_coda() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  coda_pid=$!
  coda_url=
  for _ in $(seq 400); do
    coda_url=$(sed -n 's/^coda listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$log" | head -n 1)
    [[ -n "$coda_url" ]] && break
    kill -0 "$coda_pid" 2>/dev/null || { cat "$log" >&2; fail "coda exited before listening"; }
    sleep 0.05
  done
  [[ -n "$coda_url" ]] || { cat "$log" >&2; fail "coda printed no URL"; }
  for _ in $(seq 400); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$coda_url/readyz")" == 200 ]] && return 0
    sleep 0.05
  done
  cat "$log" >&2
  fail "/readyz of $coda_url never answered 200"
}

# stop_coda [PID]: SIGTERM to PID (default: the started process; give the server's pid when a
# wrapper such as bwrap started it) and wait; fails unless coda exits 0 (a clean shutdown).
stop_coda() {
  [[ -n "${coda_pid:-}" ]] || return 0
  kill -TERM "${1:-$coda_pid}" 2>/dev/null || true
  local status=0
  wait "$coda_pid" || status=$?
  coda_pid=
  [[ $status == 0 ]] || fail "coda exited with $status after SIGTERM"
}

# mcp_tool_names URL: the tool names of an MCP tools/list on URL/mcp (initialize, then tools/list
# in the session the server may have opened), one a line. $MCP_EXTRA_HEADER ("Name: value"), when
# set, goes with both requests.
mcp_tool_names() {
  local url=$1 headers body session
  headers=$(mktemp)
  curl -sS -D "$headers" -o /dev/null -X POST "$url/mcp" -H 'Content-Type: application/json' \
    ${MCP_EXTRA_HEADER:+-H "$MCP_EXTRA_HEADER"} -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",
         "capabilities":{},"clientInfo":{"name":"packaging-test","version":"1"}}}' ||
    fail "initialize failed"
  session=$(tr -d '\r' <"$headers" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
  rm -f "$headers"
  body=$(curl -sS -X POST "$url/mcp" -H 'Content-Type: application/json' \
    -H 'Accept: application/json' -H 'MCP-Protocol-Version: 2025-06-18' \
    ${session:+-H "Mcp-Session-Id: $session"} ${MCP_EXTRA_HEADER:+-H "$MCP_EXTRA_HEADER"} \
    -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}') || fail "tools/list failed"
  jq -r '.result.tools[].name' <<<"$body" || fail "tools/list answered: $body"
}

# expect_listed LISTING PATH...: each PATH appears as a file in LISTING (output of dpkg -c or tar t).
expect_listed() {
  local listing=$1
  shift
  local path pattern
  for path in "$@"; do
    pattern=${path#/}
    grep -qE "(^|[ /])${pattern//./\\.}\$" <<<"$listing" || fail "not in the package: $path"
  done
}
