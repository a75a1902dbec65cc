#!/usr/bin/env bash
# The attack suite again as an unprivileged user: every tests/security binary of BUILD_DIR runs as
# CODA_TEST_USER (default coda-test, created here as a system user when missing), so each attack is
# tried both against a host running as root (the ctest run itself, as in CI) and against one
# running as an ordinary user. Run as a normal user, the suite already is the unprivileged run, and
# this says so. Usage: run_unprivileged.sh BUILD_DIR
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
  if ! setpriv --reuid="$user" --regid="$user" --clear-groups \
      env HOME=/tmp TMPDIR=/tmp "$binary" --gtest_brief=1; then
    status=1
  fi
done
exit $status
