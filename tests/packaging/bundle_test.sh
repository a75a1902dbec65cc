#!/usr/bin/env bash
# The relocatable bundle (docs/databricks-apps.md): `cmake --build BUILD --target bundle`, then the
# tarball is unpacked into an empty directory and checked as the Databricks Apps runtime (Ubuntu
# 22.04, glibc 2.35, none of our libraries) would see it:
#  - every ELF file finds every library through its $ORIGIN-relative RUNPATH inside the bundle,
#    except glibc's (ldd with LD_LIBRARY_PATH unset);
#  - no symbol needs a glibc newer than 2.35 (objdump -T); the calls the bundle rewrote to bind to
#    its lib/libcoda-glibc-compat.so do (LD_BIND_NOW), and fail without it (a control);
#  - app.yaml's command runs from the bundle directory — with the build and source trees hidden
#    (bubblewrap, where it works) — answers /readyz and MCP tools/list, and every mapped shared
#    object is in the bundle or glibc; `coda plugins list --json` loads every configured plugin.
#
#   bundle_test.sh BUILD_DIR SOURCE_DIR VERSION
set -euo pipefail
build=$1 source_dir=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/support.sh"
max_glibc=GLIBC_2.35
name=coda-$version-linux-$(uname -m)

work=$(mktemp -d)
restore_modes=()
cleanup() {
  if [[ -n "${coda_pid:-}" ]]; then kill -KILL "${server_pid:-$coda_pid}" "$coda_pid" 2>/dev/null || true; fi
  for entry in "${restore_modes[@]}"; do chmod "${entry%% *}" "${entry#* }"; done
  rm -rf "$work"
}
trap cleanup EXIT

note "cmake --build --target bundle"
cmake --build "$build" --target bundle >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "bundle target failed"; }
grep 'make-bundle:' "$work/build.log" || true
tarball=$build/$name.tar.gz
[[ -f "$tarball" ]] || fail "no $tarball"
mkdir "$work/unpacked"
tar -C "$work/unpacked" -xzf "$tarball"
[[ "$(ls "$work/unpacked")" == "$name" ]] || fail "the tarball's top directory is not $name"
bundle=$work/unpacked/$name
for f in coda app.yaml coda.yaml plugins/transport-mcp-http.so plugins/transport-web-ui.so \
  plugins/transport-stdio.so plugins/agent-hermes.so plugins/agent-cli.so; do
  [[ -e "$bundle/$f" ]] || fail "the bundle lacks $f"
done
echo "bundle: $(du -k "$tarball" | cut -f1) KiB packed, $(du -sk "$bundle" | cut -f1) KiB unpacked, $(ls "$bundle/lib" | wc -l) libraries"

is_glibc() {
  case "$1" in
    linux-vdso.so.* | ld-linux*.so.* | libc.so.* | libm.so.* | libmvec.so.* | libpthread.so.* | \
      libdl.so.* | librt.so.* | libresolv.so.* | libutil.so.* | libanl.so.* | libnss_*.so.* | \
      */gconv/*) return 0 ;;
  esac
  return 1
}
newer_than_max() { [[ "$1" != "$max_glibc" && "$(printf '%s\n' "$max_glibc" "$1" | sort -V | tail -n 1)" == "$1" ]]; }

compat=$bundle/lib/libcoda-glibc-compat.so
compat_symbols=
[[ -e "$compat" ]] && compat_symbols=$(objdump -T "$compat" | awk '$4 == ".text" { print $NF }')
mapfile -t elves < <(find "$bundle" -type f \( -name coda -o -name '*.so' -o -name '*.so.*' \))
((${#elves[@]} >= 7)) || fail "only ${#elves[@]} ELF files in the bundle"
for elf in "${elves[@]}"; do
  rel=${elf#"$bundle"/}
  case "$rel" in
    coda) want='$ORIGIN/lib' ;;
    plugins/*) want='$ORIGIN/../lib' ;;
    lib/*) want='$ORIGIN' ;;
  esac
  runpath=$(readelf -d "$elf" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  [[ "$runpath" == "$want" ]] || fail "$rel: RUNPATH '$runpath', expected '$want'"

  deps=$(env -u LD_LIBRARY_PATH ldd "$elf") || fail "ldd $rel: $deps"
  while read -r soname arrow path _; do
    [[ "$arrow" == "=>" ]] || continue
    [[ "$path" != not ]] || fail "$rel: $soname not found"
    is_glibc "$soname" && continue
    path=$(readlink -f "$path")
    [[ "$path" == "$bundle/lib/"* ]] || fail "$rel: $soname resolves outside the bundle: $path"
  done <<<"$deps"

  # (Captured first: grep -q on a pipe would end objdump early, and pipefail would count that.)
  symbols=$(objdump -T "$elf")
  dynamic=$(readelf -d "$elf")
  for v in $(grep -oE 'GLIBC_[0-9.]+' <<<"$symbols" | sort -uV); do
    ! newer_than_max "$v" || fail "$rel needs $v, newer than $max_glibc"
  done
  for sym in $compat_symbols; do
    grep -qE "\*UND\*.* $sym\$" <<<"$symbols" || continue
    grep -q "NEEDED.*\[libcoda-glibc-compat.so\]" <<<"$dynamic" ||
      fail "$rel calls $sym without libcoda-glibc-compat.so"
    echo "$rel: $sym comes from libcoda-glibc-compat.so"
  done
done

# The references make-bundle.sh rewrote (e.g. arc4random@GLIBC_2.36 -> @GLIBC_2.2.5) bind on this
# machine exactly as on glibc 2.35: no glibc defines them at the old version, so they must bind to
# libcoda-glibc-compat.so. LD_BIND_NOW binds every symbol at start-up (plugins too): it works with
# the compat library, and — the control — fails without it.
note "every symbol binds (LD_BIND_NOW)"
out=$(env -i PATH=/usr/bin:/bin HOME="$work" LD_BIND_NOW=1 "$bundle/coda" plugins list --json \
  --config "$bundle/coda.yaml" 2>"$work/bindnow.err") ||
  fail "coda plugins list with LD_BIND_NOW: $out $(cat "$work/bindnow.err")"
[[ ! -s "$work/bindnow.err" ]] || fail "the loader or coda complained: $(cat "$work/bindnow.err")"
jq -e '[.plugins[] | select(.configured)] | all(.status == "loaded")' <<<"$out" >/dev/null ||
  fail "plugins did not load with LD_BIND_NOW: $out"
if [[ -n "$compat_symbols" && -e "$compat" ]]; then
  control=$work/control
  cp -a "$bundle" "$control"
  cc -shared -o "$control/lib/libcoda-glibc-compat.so" -x c /dev/null
  if out=$(env -i PATH=/usr/bin:/bin LD_BIND_NOW=1 "$control/coda" version 2>&1); then
    fail "control: the bundle ran with an empty libcoda-glibc-compat.so"
  fi
  grep -q 'undefined symbol: arc4random' <<<"$out" || fail "control failed differently: $out"
fi

# app.yaml's command, e.g. command: ["./coda", "serve", "--config", "coda.yaml"]
command_line=$(sed -n 's/^command: *\[\(.*\)\]/\1/p' "$bundle/app.yaml" | tr -d '" ' | tr ',' ' ')
read -r -a argv <<<"$command_line"
((${#argv[@]} >= 2)) || fail "app.yaml has no command list"
[[ -x "$bundle/${argv[0]}" ]] || fail "app.yaml runs ${argv[0]}, which is not in the bundle"
for ((i = 1; i < ${#argv[@]}; i++)); do
  if [[ "${argv[i]}" == --config ]]; then
    [[ -f "$bundle/${argv[i + 1]}" ]] || fail "app.yaml's config ${argv[i + 1]} is not in the bundle"
  fi
done

# The build and source trees out of reach of the bundle: hidden by bubblewrap where it can make a
# mount namespace; else, as root (a container), made unreadable to `nobody` (mode 0700 while the
# bundle runs; other tests run as root and are not affected), which then runs the bundle.
mkdir -p "$work/data"
hide=()
if command -v bwrap >/dev/null && bwrap --dev-bind / / --tmpfs "$build" true 2>/dev/null; then
  hide=(bwrap --dev-bind / / --tmpfs "$build" --tmpfs "$source_dir" --)
  note "running with $build and $source_dir hidden (bubblewrap)"
elif [[ $(id -u) == 0 ]] && command -v runuser >/dev/null; then
  for dir in "$build" "$source_dir"; do
    restore_modes+=("$(stat -c %a "$dir") $dir")
    chmod 0700 "$dir"
  done
  chmod 0755 "$work"
  chown nobody "$work/data"
  hide=(runuser -u nobody --)
  if runuser -u nobody -- test -r "$build/CMakeCache.txt"; then fail "nobody can still read $build"; fi
  note "running as nobody with $build and $source_dir unreadable"
else
  note "neither bubblewrap nor root here: the build tree stays visible (the ldd and maps checks hold)"
fi

note "app.yaml's command, from the bundle directory"
cd "$bundle"
start_coda "$work/serve.log" "${hide[@]}" env -i PATH=/usr/bin:/bin HOME="$work" \
  DATABRICKS_APP_PORT=0 CODA_DATA_DIR="$work/data" "${argv[@]}" --listen 127.0.0.1:0
# bwrap forks: the server is its child (or bwrap execs it); look for the coda process.
server_pid=$coda_pid
if [[ -n "${hide[*]}" ]]; then
  for _ in $(seq 100); do
    server_pid=$(pgrep -P "$coda_pid" -x coda || true)
    [[ -n "$server_pid" ]] && break
    sleep 0.05
  done
  [[ -n "$server_pid" ]] || server_pid=$coda_pid
fi
while read -r so; do
  [[ "$so" == "$bundle/"* ]] && continue
  is_glibc "$(basename "$so")" || [[ "$so" == */gconv/* ]] || fail "the server mapped $so, outside the bundle"
done < <(awk '$6 ~ /\.so/ { print $6 }' "/proc/$server_pid/maps" | sort -u)
grep -q "$bundle/plugins/transport-mcp-http.so" "/proc/$server_pid/maps" || fail "no plugin mapped"
tools=$(MCP_EXTRA_HEADER="X-Forwarded-Email: test@example.com" mcp_tool_names "$coda_url")
grep -qx coda_run <<<"$tools" || fail "tools/list lacks coda_run: $tools"
stop_coda "$server_pid"

note "coda plugins list --json"
list=$("${hide[@]}" env -i PATH=/usr/bin:/bin HOME="$work" ./coda plugins list --json --config coda.yaml)
jq -e '[.plugins[] | select(.configured)] | length >= 4 and all(.status == "loaded")' <<<"$list" >/dev/null ||
  fail "not every configured plugin loaded from the bundle: $list"
jq -r '.plugins[] | "\(.name): \(.status) \(.file)"' <<<"$list"
for entry in "${restore_modes[@]}"; do chmod "${entry%% *}" "${entry#* }"; done
restore_modes=()
echo PASS
