#!/bin/sh
# Turns caddy/modules.pin (the file beside this script) into xcaddy's arguments, so the Dockerfile
# and scripts/build-caddy.sh build the same Caddy from one list. POSIX sh only: it runs in a bare
# golang image as well as on the host.
#
#   sh caddy/xcaddy-args.sh               the first Caddy in the pin file and its plugins, on one line:
#                                         v2.11.9 --with github.com/caddy-dns/cloudflare@v0.2.2 --with …
#   sh caddy/xcaddy-args.sh v2.10.2       the same for that Caddy (it must be in the pin file)
#   sh caddy/xcaddy-args.sh --versions    every Caddy in the pin file, one a line, the default first
#
# A module line's optional third field is the lowest Caddy it is built into. Exit status 1, with
# the reason on stderr, for an unknown line kind, a version not in the file or a file with none.
set -eu

PIN_FILE="${PIN_FILE:-$(dirname "$0")/modules.pin}"

die() { echo "xcaddy-args: $*" >&2; exit 1; }

[ -r "$PIN_FILE" ] || die "cannot read $PIN_FILE"

# version_ge A B: A >= B for vX.Y.Z (a pre-release suffix such as -beta.1 is ignored).
version_ge() {
  # sh has no local variables: these names are used nowhere else.
  _va="${1#v}"; _vb="${2#v}"; _va="${_va%%-*}"; _vb="${_vb%%-*}"
  for _ in 1 2 3; do
    _x="${_va%%.*}"; _y="${_vb%%.*}"
    [ "$_x" -gt "$_y" ] && return 0
    [ "$_x" -lt "$_y" ] && return 1
    case "$_va" in *.*) _va="${_va#*.}" ;; *) _va=0 ;; esac
    case "$_vb" in *.*) _vb="${_vb#*.}" ;; *) _vb=0 ;; esac
  done
  return 0
}

versions=""
while read -r kind a b c; do
  case "$kind" in
    ''|'#'*) ;;
    caddy) versions="$versions $a" ;;
    module) [ -n "$a" ] && [ -n "$b" ] || die "$PIN_FILE: a module line needs <go module> <version>" ;;
    *) die "$PIN_FILE: unknown line kind '$kind'" ;;
  esac
done < "$PIN_FILE"
set -- "$@" ""
[ -n "$versions" ] || die "$PIN_FILE lists no caddy version"

if [ "$1" = "--versions" ]; then
  for v in $versions; do echo "$v"; done
  exit 0
fi

wanted="$1"
if [ -z "$wanted" ]; then
  for v in $versions; do wanted="$v"; break; done
fi
found=0
for v in $versions; do [ "$v" = "$wanted" ] && found=1; done
[ "$found" = 1 ] || die "$wanted is not a caddy line in $PIN_FILE (it has:$versions)"

out="$wanted"
while read -r kind a b c; do
  [ "$kind" = module ] || continue
  if version_ge "$wanted" "${c:-v0.0.0}"; then out="$out --with $a@$b"; fi
done < "$PIN_FILE"
echo "$out"
