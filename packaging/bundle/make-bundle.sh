#!/usr/bin/env bash
# Builds the relocatable bundle NAME.tar.gz: `coda`, its plugins and every shared library they need
# except glibc's, for machines that have none of our libraries (the Databricks Apps runtime: Ubuntu
# 22.04, glibc 2.35). Run by `cmake --build build --target bundle`; docs/databricks-apps.md.
#
#   make-bundle.sh --name NAME --out DIR --coda FILE --compat LIB --retarget TOOL --max-glibc VERSION
#                  [--extra FILE]... PLUGIN.so...
#
# Layout (NAME/):  coda                 RUNPATH $ORIGIN/lib
#                  plugins/*.so         RUNPATH $ORIGIN/../lib (found by coda next to itself)
#                  lib/*.so.*           RUNPATH $ORIGIN (each library finds its own dependencies)
#                  the --extra files    (app.yaml and the coda config of the Databricks app)
# ELF files that need a glibc newer than --max-glibc get those version references rewritten to an
# old one (--retarget: retarget_glibc_versions) and --compat (libcoda-glibc-compat.so, which defines
# the functions) added to their NEEDED list.
set -euo pipefail

name= out= coda= compat= retarget= max_glibc=
extras=() plugins=()
while (($#)); do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --coda) coda=$2; shift 2 ;;
    --compat) compat=$2; shift 2 ;;
    --retarget) retarget=$2; shift 2 ;;
    --max-glibc) max_glibc=$2; shift 2 ;;
    --extra) extras+=("$2"); shift 2 ;;
    *) plugins+=("$1"); shift ;;
  esac
done
for v in name out coda compat retarget max_glibc; do
  [[ -n "${!v}" ]] || { echo "make-bundle: --${v//_/-} is required" >&2; exit 2; }
done
command -v patchelf >/dev/null || { echo "make-bundle: patchelf is missing (apt-get install patchelf)" >&2; exit 2; }

# The libraries of glibc itself: the target machine has its own (and they must match its kernel
# interface and its loader).
is_glibc() {
  case "$1" in
    linux-vdso.so.* | ld-linux*.so.* | libc.so.* | libm.so.* | libmvec.so.* | libpthread.so.* | \
      libdl.so.* | librt.so.* | libresolv.so.* | libutil.so.* | libanl.so.* | libnss_*.so.* | \
      libBrokenLocale.so.* | libthread_db.so.* | libc_malloc_debug.so.*) return 0 ;;
  esac
  return 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/$name
mkdir -p "$stage/lib" "$stage/plugins"
install -m 0755 "$coda" "$stage/coda"
for p in "${plugins[@]}"; do install -m 0644 "$p" "$stage/plugins/"; done
for e in "${extras[@]}"; do install -m 0644 "$e" "$stage/"; done

# Every library the binary and the plugins load, transitively (ldd resolves the whole tree).
env -u LD_LIBRARY_PATH ldd "$stage/coda" "$stage"/plugins/*.so | while read -r soname arrow path _; do
  [[ "$arrow" == "=>" ]] || continue
  is_glibc "$soname" && continue
  if [[ "$path" == "not" ]]; then echo "make-bundle: $soname not found" >&2; exit 1; fi
  [[ -e "$stage/lib/$soname" ]] || install -m 0644 "$(readlink -f "$path")" "$stage/lib/$soname"
done

# Debug info stays in the build tree; the bundle carries only what runs.
strip --strip-unneeded "$stage/coda" "$stage"/plugins/*.so "$stage"/lib/*

newer_than_max() { [[ "$1" != "$max_glibc" && "$(printf '%s\n' "$max_glibc" "$1" | sort -V | tail -n 1)" == "$1" ]]; }
compat_symbols=" $(objdump -T "$compat" | awk '$4 == ".text" { print $NF }' | tr '\n' ' ') "
for elf in "$stage/coda" "$stage"/plugins/*.so "$stage"/lib/*; do
  # Only what the compat library defines may be retargeted; anything else needs adding there.
  while read -r version symbol; do
    if newer_than_max "$version" && [[ "$compat_symbols" != *" $symbol "* ]]; then
      echo "make-bundle: ${elf#"$stage"/} needs $symbol@$version, newer than $max_glibc and not in" \
        "$(basename "$compat") (packaging/bundle/glibc_compat.c): add it there" >&2
      exit 1
    fi
  done < <(objdump -T "$elf" | sed -n 's/.*\*UND\*.*(\(GLIBC_[0-9.]*\)) *\(.*\)$/\1 \2/p')
  if [[ -n "$("$retarget" "$elf" "$max_glibc")" ]]; then
    echo "make-bundle: ${elf#"$stage"/} needs a glibc newer than $max_glibc; adding $(basename "$compat")"
    patchelf --add-needed "$(basename "$compat")" "$elf"
    if [[ ! -e "$stage/lib/$(basename "$compat")" ]]; then
      install -m 0644 "$compat" "$stage/lib/"
      strip --strip-unneeded "$stage/lib/$(basename "$compat")"
    fi
  fi
done

patchelf --set-rpath '$ORIGIN/lib' "$stage/coda"
for p in "$stage"/plugins/*.so; do patchelf --set-rpath '$ORIGIN/../lib' "$p"; done
for lib in "$stage"/lib/*; do patchelf --set-rpath '$ORIGIN' "$lib"; done

mkdir -p "$out"
tar -C "$work" --owner=0 --group=0 --numeric-owner --sort=name -czf "$out/$name.tar.gz" "$name"
echo "make-bundle: $out/$name.tar.gz ($(du -k "$out/$name.tar.gz" | cut -f1) KiB, $(ls "$stage/lib" | wc -l) libraries)"
