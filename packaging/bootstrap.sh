#!/usr/bin/env bash
# Sets up a Debian 12 machine for CoDA Host and builds it. Idempotent: packages already present are not
# installed again, and a configured build tree is only rebuilt.
#
#   packaging/bootstrap.sh deps        install the build dependencies (Debian packages)
#   packaging/bootstrap.sh build       deps + configure + build the default preset (build/)
#   packaging/bootstrap.sh serve [ARGS]  build, then run `build/coda serve ARGS` on the embedded defaults
#   packaging/bootstrap.sh test        everything the test suite needs (Debian packages, npm packages),
#                                      then build and run the whole suite (unit, integration, conformance,
#                                      real clients, browser, fuzz) on the presets in CODA_TEST_PRESETS
#
# Environment: CODA_JOBS (parallel build jobs, default: nproc), CODA_TEST_PRESETS (default
# "default asan tsan": the whole suite, with a bounded libFuzzer session of CODA_FUZZ_SECONDS per target
# (default 60); the suite again under ASan+UBSan without the 1 GB floods; the tests labelled tsan under
# TSan), CODA_FUZZ_RUN=0 (skip the libFuzzer session; the fuzz corpora are still replayed),
# CODA_SKIP_APT=1 (never call apt-get).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${CODA_JOBS:-$(nproc)}"
# ccache keys on paths relative to the checkout, so another clone or build tree of the same sources
# reuses the objects (without the working directory in the key, which -g would otherwise add: only
# the debug info's compilation directory then names the first checkout).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

# dpkg-dev: dpkg-shlibdeps for the .deb's Depends; patchelf: the relocatable bundle (cmake/CodaPackaging.cmake).
build_packages=(build-essential cmake pkg-config git ccache libpoco-dev libboost-dev
  libboost-filesystem-dev libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev libssl-dev dpkg-dev
  patchelf)
# adduser, systemd (systemd-analyze) and jq: the packaging tests (tests/packaging); util-linux
# (setsid, setpriv) and perl-base (setpgid): the escapees and the unprivileged run of tests/security.
test_packages=(chromium bubblewrap sqlite3 wrk hyperfine procps psmisc git clang libclang-rt-dev
  curl openssl file binutils adduser systemd jq util-linux perl-base)

log() { printf 'bootstrap: %s\n' "$*" >&2; }

install_packages() {
  [[ "${CODA_SKIP_APT:-0}" == 1 ]] && return 0
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

configure_build() {
  local preset="$1"
  local dir=build
  [[ "$preset" != default ]] && dir="build-$preset"
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  if [[ ! -f "$dir/CMakeCache.txt" ]]; then
    log "configuring $preset"
    cmake --preset "$preset" "${launcher[@]}" >/dev/null
  fi
  log "building $preset"
  local start=$SECONDS
  cmake --build --preset "$preset" -j "$jobs"
  log "built $preset in $((SECONDS - start)) s"
}

node_packages() {
  # Any Node.js with npm runs the installer (the suite itself runs on the Node 22 from npm); only a
  # machine without one gets Debian's.
  command -v npm >/dev/null || install_packages nodejs npm
  log "installing npm packages (tests/node)"
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

cmd="${1:-build}"
shift || true
case "$cmd" in
  deps)
    install_packages "${build_packages[@]}"
    ;;
  build)
    install_packages "${build_packages[@]}"
    configure_build default
    ;;
  serve)
    install_packages "${build_packages[@]}"
    configure_build default
    exec "$root/build/coda" serve "$@"
    ;;
  test)
    install_packages "${build_packages[@]}" "${test_packages[@]}"
    node_packages
    if [[ $(id -u) -eq 0 && -n "${CI:-}" ]]; then
      # The attack suite runs a second time as an unprivileged user
      # (tests/security/run_unprivileged.sh): it must be able to read the checkout and the builds.
      chmod -R o+rX "$root"
      dir="$root"
      while [[ "$dir" != / ]]; do dir=$(dirname "$dir"); chmod o+x "$dir"; done
    fi
    status=0
    for preset in ${CODA_TEST_PRESETS:-default asan tsan}; do
      configure_build "$preset"
      log "testing $preset"
      # fuzz_run (default preset: build the clang libFuzzer tree, fuzz each target CODA_FUZZ_SECONDS)
      # stays out with CODA_FUZZ_RUN=0; every run replays the corpora and regressions (fuzz_replay_*).
      exclude=()
      [[ "${CODA_FUZZ_RUN:-1}" == 0 ]] && exclude=(-E '^fuzz_run$')
      start=$SECONDS
      ctest --preset "$preset" -j "$jobs" --timeout 600 "${exclude[@]}" || status=1
      log "tested $preset in $((SECONDS - start)) s"
    done
    exit $status
    ;;
  *)
    sed -n '2,15p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
