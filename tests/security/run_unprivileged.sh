#!/usr/bin/env bash
# The attack suite again as an unprivileged user: every tests/security binary of BUILD_DIR runs as
# CODA_TEST_USER (default coda-test, created here as a system user when missing), so each attack is
# tried both against a host running as root (the ctest run itself, as in CI) and against one
# running as an ordinary user. Run as a normal user, the suite already is the unprivileged run, and
# this says so. Usage: run_unprivileged.sh BUILD_DIR
#
# The user gets a cgroup v2 of its own, delegated the way systemd's Delegate=yes does it for the
# packaged service (the directory and its cgroup.procs, cgroup.threads and cgroup.subtree_control
# owned by the user): the host then makes one cgroup per agent, as it does when deployed. Without a
# writable cgroup2 (some containers) the binaries run in root's cgroup and the tests that need task
# cgroups say so.
set -uo pipefail
build="${1:?usage: run_unprivileged.sh BUILD_DIR}"
user="${CODA_TEST_USER:-coda-test}"
if [[ $(id -u) -ne 0 ]]; then
  echo "running as $(id -un) (uid $(id -u)): the suite's own run is the unprivileged one"
  exit 0
fi
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" ||
    { echo "cannot create the test user $user"; exit 1; }
fi
shopt -s nullglob
binaries=("$build"/security_*)
if ((${#binaries[@]} == 0)); then
  echo "no security_* binaries in $build"
  exit 1
fi
delegated=""
cleanup() {
  [[ -n "$delegated" && -d "$delegated" ]] || return 0
  [[ -w "$delegated/cgroup.kill" ]] && echo 1 >"$delegated/cgroup.kill" 2>/dev/null
  for _ in $(seq 50); do grep -q "populated 1" "$delegated/cgroup.events" 2>/dev/null || break; sleep 0.1; done
  find "$delegated" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
  rmdir "$delegated" 2>/dev/null || echo "could not remove the test cgroup $delegated"
}
trap cleanup EXIT
mount_point=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
if [[ -n "$mount_point" && -n "$own" && -w "$mount_point${own%/}/cgroup.procs" ]]; then
  delegated="$mount_point${own%/}/coda-unprivileged-$$"
  if mkdir "$delegated" &&
      chown "$user:" "$delegated" "$delegated"/cgroup.{procs,threads,subtree_control}; then
    echo "delegated the cgroup $delegated to $user (as systemd's Delegate=yes does)"
  else
    echo "cannot delegate a cgroup to $user in $mount_point${own%/}"
    delegated=""
  fi
else
  echo "no writable cgroup2 to delegate to $user: task cgroups are unavailable in this run"
fi
# Runs "$@" inside the delegated cgroup (moved there by root, as systemd starts a service in its own).
in_cgroup() {
  if [[ -n "$delegated" ]]; then
    bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$delegated" "$@"
  else
    "$@"
  fi
}
status=0
for binary in "${binaries[@]}"; do
  [[ -x "$binary" && -f "$binary" ]] || continue
  if ! setpriv --reuid="$user" --regid="$user" --clear-groups test -x "$binary"; then
    echo "$user cannot run $binary: make the checkout readable (chmod o+rX on it, o+x on its"
    echo "parents; packaging/bootstrap.sh test does this when CI=true)"
    [[ -n "${CI:-}" ]] && exit 1
    echo "skipped: not in CI"
    exit 0
  fi
  echo "== $(basename "$binary") as $user"
  if ! in_cgroup setpriv --reuid="$user" --regid="$user" --clear-groups \
      env HOME=/tmp TMPDIR=/tmp "$binary" --gtest_brief=1; then
    status=1
  fi
done
exit $status
