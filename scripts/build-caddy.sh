#!/usr/bin/env bash
# Build the Caddys listed in caddy/modules.pin (read through caddy/xcaddy-args.sh, as the Dockerfile
# does) with xcaddy, each with its plugins, into a cache keyed by Caddy version + module list:
#
#   scripts/build-caddy.sh            every Caddy in the pin file
#   scripts/build-caddy.sh v2.10.2    one of them
#   scripts/build-caddy.sh --print    the path each build has (or would have), built or not
#
# Output: $INGRESSD_CADDY_CACHE (default .cache/caddy in the repository)/<version>-<key>/caddy, and
# .cache/caddy/<version> -> that directory. A second run with the same pins costs nothing. A failed
# build names the module and prints Go's reason; the partial output is removed.
set -euo pipefail
cd "$(dirname "$0")/.."

PIN_FILE=caddy/modules.pin
CACHE="${INGRESSD_CADDY_CACHE:-$PWD/.cache/caddy}"
XCADDY_VERSION=v0.4.5
export GOFLAGS="${GOFLAGS:--mod=mod}"
# Plugins outside the checksum database's coverage here: fetch them from the proxy without it.
export GONOSUMDB="${GONOSUMDB:-github.com/caddy-dns/*,github.com/mholt/*,github.com/pberkel/*}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0

die() { echo "build-caddy: $*" >&2; exit 1; }

# caddy/xcaddy-args.sh reads the pin file, for the Dockerfile too: one reading of it for both.
ARGS=caddy/xcaddy-args.sh
versions=()
listed="$(sh "$ARGS" --versions)" || die "$PIN_FILE cannot be read (see above)"
while read -r v; do versions+=("$v"); done <<< "$listed"

# The plugins for one Caddy version, one "module@version" per line, in the pin file's order.
plugins_for() {
  sh "$ARGS" "$VERSION" | awk '{ for (i = 3; i <= NF; i += 2) print $i }'
}

out_dir() {
  local key
  key="$( { echo "$VERSION"; plugins_for; echo "xcaddy $XCADDY_VERSION"; go env GOVERSION 2>/dev/null; } | sha256sum | cut -c1-12)"
  echo "$CACHE/$VERSION-$key"
}

print=0; wanted=()
for arg in "$@"; do
  case "$arg" in
    --print) print=1 ;;
    v*) wanted+=("$arg") ;;
    *) die "unknown argument '$arg' (give a version from $PIN_FILE, or --print)" ;;
  esac
done
[ "${#wanted[@]}" -gt 0 ] || wanted=("${versions[@]}")

command -v go >/dev/null || die "Go is not on PATH: install Go to build Caddy (or use Debian's caddy, without plugins)"
XCADDY="$(go env GOPATH)/bin/xcaddy"

for VERSION in "${wanted[@]}"; do
  printf '%s\n' "${versions[@]}" | grep -qx "$VERSION" || die "$VERSION is not in $PIN_FILE"
  dir="$(out_dir)"
  if [ "$print" = 1 ]; then echo "$VERSION $dir/caddy"; continue; fi
  if [ -x "$dir/caddy" ]; then
    echo "build-caddy: $VERSION cached at $dir/caddy"
  else
    if [ ! -x "$XCADDY" ]; then
      echo "build-caddy: installing xcaddy $XCADDY_VERSION"
      go install "github.com/caddyserver/xcaddy/cmd/xcaddy@$XCADDY_VERSION" || die "could not install xcaddy $XCADDY_VERSION from the Go module proxy"
    fi
    args=()
    while read -r p; do [ -n "$p" ] && args+=(--with "$p"); done < <(plugins_for)
    echo "build-caddy: building Caddy $VERSION with ${args[*]:-no plugins}"
    mkdir -p "$dir.tmp"
    log="$dir.tmp/build.log"
    if ! "$XCADDY" build "$VERSION" "${args[@]}" --output "$dir.tmp/caddy" >"$log" 2>&1; then
      culprit="$(grep -oE 'github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+' "$log" | grep -v caddyserver | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')"
      tail -n 30 "$log" >&2
      rm -rf "$dir.tmp"
      die "Caddy $VERSION failed to build${culprit:+ (the module most named in the errors: $culprit)}: see the lines above"
    fi
    "$dir.tmp/caddy" list-modules --packages > "$dir.tmp/modules.txt"
    "$dir.tmp/caddy" version > "$dir.tmp/version.txt"
    rm -f "$log"
    rm -rf "$dir"; mv "$dir.tmp" "$dir"
    echo "build-caddy: $VERSION built at $dir/caddy ($(cut -d' ' -f1 "$dir/version.txt"))"
  fi
  ln -sfn "$(basename "$dir")" "$CACHE/$VERSION"
done
