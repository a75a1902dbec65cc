#!/usr/bin/env bash
# The Debian packages end to end (docs/packaging.md): cpack builds coda_<version>_amd64.deb and
# coda-sdk_<version>_all.deb from the build tree; their file lists and control data are checked;
# dpkg -i installs them on this machine; the installed /usr/bin/coda serves with the installed
# /etc/coda/coda.yaml and the plugins in /usr/lib/coda/plugins (/readyz, MCP tools/list); the unit
# passes systemd-analyze verify; the template builds against the installed SDK and loads; dpkg -r
# and dpkg --purge remove every file again.
#
#   deb_test.sh BUILD_DIR VERSION
#
# Needs root (dpkg -i), as in CI; exits 77 (skipped) otherwise, or when a coda package is already
# installed (the test would replace it). ctest runs it under RESOURCE_LOCK dpkg.
set -euo pipefail
build=$1 version=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/support.sh"

if [[ $(id -u) != 0 ]]; then echo "SKIP: dpkg -i needs root"; exit 77; fi
for p in coda coda-sdk; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    echo "SKIP: package $p is already installed here; the test would replace it"
    exit 77
  fi
done

work=$(mktemp -d)
installed=0
cleanup() {
  if [[ -n "${coda_pid:-}" ]]; then kill -KILL "$coda_pid" 2>/dev/null || true; fi
  if [[ $installed == 1 ]]; then dpkg --purge coda coda-sdk >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

note "cpack -G DEB"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$work/pkg/coda_${version}_amd64.deb
sdk=$work/pkg/coda-sdk_${version}_all.deb
[[ -f "$deb" && -f "$sdk" ]] || { ls "$work/pkg"; fail "cpack wrote no coda_${version}_amd64.deb / coda-sdk_${version}_all.deb"; }

note "dpkg -c coda"
listing=$(dpkg -c "$deb")
plugin_dir=/usr/lib/coda/plugins
expect_listed "$listing" /usr/bin/coda /etc/coda/coda.yaml /etc/default/coda \
  /usr/lib/systemd/system/coda.service /usr/share/doc/coda/README.md \
  $plugin_dir/transport-mcp-http.so $plugin_dir/transport-stdio.so $plugin_dir/transport-web-ui.so \
  $plugin_dir/agent-hermes.so $plugin_dir/agent-cli.so
! grep -qE 'template-plugin|fixture|/include/' <<<"$listing" || fail "test or SDK files in coda: $listing"
[[ "$(dpkg-deb -f "$deb" Version)" == "$version" ]] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
for d in adduser libpoco libyaml-cpp libboost-filesystem; do
  grep -q "$d" <<<"$depends" || fail "Depends lacks $d: $depends"
done
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/coda/coda.yaml "$work/control/conffiles" || fail "/etc/coda/coda.yaml is no conffile"
for s in postinst prerm postrm; do [[ -x "$work/control/$s" ]] || fail "no $s"; done

note "dpkg -c coda-sdk"
sdk_listing=$(dpkg -c "$sdk")
expect_listed "$sdk_listing" /usr/include/coda/plugin.h /usr/lib/cmake/CodaSDK/CodaSDKConfig.cmake \
  /usr/lib/cmake/CodaSDK/CodaSDKConfigVersion.cmake /usr/lib/cmake/CodaSDK/CodaSDKTargets.cmake \
  /usr/lib/cmake/CodaSDK/coda-plugin.map /usr/share/coda/sdk/template/CMakeLists.txt \
  /usr/share/coda/sdk/template/template_plugin.c
[[ "$(dpkg-deb -f "$sdk" Architecture)" == all ]] || fail "coda-sdk is not Architecture: all"
[[ "$(dpkg-deb -f "$sdk" Version)" == "$version" ]] || fail "coda-sdk Version is not $version"

note "dpkg -i"
installed=1
dpkg -i "$deb" "$sdk" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
getent passwd coda >/dev/null || fail "postinst created no coda user"
if command -v deb-systemd-helper >/dev/null; then
  # Enabled as Debian packages do (started only where systemd runs, which a CI container lacks).
  [[ -L /etc/systemd/system/multi-user.target.wants/coda.service ]] || fail "coda.service is not enabled"
fi
[[ "$(stat -c '%U:%G %a' /var/lib/coda)" == "coda:coda 750" ]] ||
  fail "/var/lib/coda is $(stat -c '%U:%G %a' /var/lib/coda)"
[[ "$(/usr/bin/coda version)" == *"$version"* ]] || fail "coda version: $(/usr/bin/coda version)"
grep -q "search_paths: \[$plugin_dir\]" /etc/coda/coda.yaml || fail "config has no $plugin_dir"
grep -q 'data_dir: ${CODA_DATA_DIR:-/var/lib/coda}' /etc/coda/coda.yaml || fail "config has no /var/lib/coda"
# Without --config, coda reads /etc/coda/coda.yaml.
check=$(env -u CODA_CONFIG /usr/bin/coda config check 2>&1) || fail "config check: $check"
[[ "$check" == "/etc/coda/coda.yaml: ok (agent isolation: "* ]] || fail "config check checked: $check"

note "systemd-analyze verify"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (Debian package systemd)"
systemd-analyze verify /usr/lib/systemd/system/coda.service >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log"; fail "systemd-analyze verify failed"; }
if grep -i 'coda.service' "$work/verify.log"; then fail "systemd-analyze warns about coda.service"; fi

note "coda serve from the installed files"
mkdir -p "$work/data"
start_coda "$work/serve.log" env -u CODA_CONFIG -u LD_LIBRARY_PATH /usr/bin/coda serve \
  --listen 127.0.0.1:0 --data-dir "$work/data"
grep -q "$plugin_dir/transport-mcp-http.so" "/proc/$coda_pid/maps" ||
  fail "the server did not load $plugin_dir/transport-mcp-http.so"
tools=$(mcp_tool_names "$coda_url")
for t in coda_run coda_inbox coda_get_result coda_cancel; do
  grep -qx "$t" <<<"$tools" || fail "tools/list lacks $t: $tools"
done
stop_coda

note "the template against the installed SDK"
cmake -S /usr/share/coda/sdk/template -B "$work/template" >"$work/template.log" 2>&1 &&
  cmake --build "$work/template" >>"$work/template.log" 2>&1 ||
  { cat "$work/template.log"; fail "the template does not build against coda-sdk"; }
cat >"$work/template.yaml" <<YAML
plugins:
  search_paths: [$work/template]
  load:
    - {name: template-plugin, required: true}
tools:
  echo:
    component: com.example.template.echo
YAML
list=$(/usr/bin/coda plugins list --json --config "$work/template.yaml") || fail "plugins list: $list"
[[ "$(jq -r '.plugins[0].status' <<<"$list")" == loaded ]] || fail "template not loaded: $list"

note "dpkg -r, dpkg --purge"
dpkg -r coda coda-sdk >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -r failed"; }
for f in /usr/bin/coda $plugin_dir /usr/include/coda /usr/lib/cmake/CodaSDK /usr/share/coda; do
  [[ ! -e "$f" ]] || fail "$f is left after dpkg -r"
done
[[ -f /etc/coda/coda.yaml ]] || fail "dpkg -r removed the conffile (only purge may)"
dpkg --purge coda coda-sdk >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge failed"; }
installed=0
for f in /etc/coda /etc/default/coda /var/lib/coda /usr/lib/systemd/system/coda.service \
  /usr/share/doc/coda; do
  [[ ! -e "$f" ]] || fail "$f is left after dpkg --purge"
done
# Nor any trace in systemd's or deb-systemd-helper's state (enablement links, masks).
leftovers=$(find /etc/systemd /var/lib/systemd -name '*coda*' 2>/dev/null)
[[ -z "$leftovers" ]] || fail "left after dpkg --purge: $leftovers"
for p in coda coda-sdk; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    fail "dpkg still lists $p as installed"
  fi
done
echo "PASS"
