-- wrk: like post.lua, but each connection waits PACE_MS (default 4) between a response and its next
-- request, so 32 connections offer about 32 * 1000 / PACE_MS requests/s: latency at a set load,
-- not at saturation.
dofile(os.getenv("CODA_BENCH_DIR") .. "/post.lua")
local pace = tonumber(os.getenv("PACE_MS") or "4")
function delay()
  return pace
end
