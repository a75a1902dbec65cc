#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) in their own tree and fuzzs each for a bounded
# time, starting from the checked-in seeds (copied: the checked-in corpus is never modified).
#   tests/fuzz/run_fuzz.sh SOURCE_DIR BUILD_DIR
# Environment: CODA_FUZZ_SECONDS (per target, default 60), CODA_JOBS (build jobs, default 2).
# A crash leaves its input in BUILD_DIR/findings/<target>/: add it to tests/fuzz/regressions/<target>/
# once fixed, so the replay test keeps it fixed.
set -euo pipefail
src="$1"
build="$2"
seconds="${CODA_FUZZ_SECONDS:-60}"
jobs="${CODA_JOBS:-2}"
targets=(fuzz_jsonrpc fuzz_http_request fuzz_config)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCODA_FUZZ=ON \
    -DCODA_WERROR=OFF -DCODA_SANITIZE=address,undefined \
    "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link" "-DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link" \
    "${launcher[@]}" >/dev/null
fi
cmake --build "$build" --target "${targets[@]}" -j "$jobs" >/dev/null

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for target in "${targets[@]}"; do
  work="$build/fuzz-work/$target"
  findings="$build/findings/$target"
  rm -rf "$work"
  mkdir -p "$work" "$findings"
  cp "$src/tests/fuzz/corpus/$target/"* "$work/"
  echo "fuzz: $target for ${seconds}s"
  if ! "$build/$target" "$work" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 2>"$build/$target.log"; then
    echo "fuzz: $target FOUND A PROBLEM; input in $findings, log $build/$target.log" >&2
    tail -n 60 "$build/$target.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$build/$target.log" | tail -n 2 || true
  fi
done
exit $status
