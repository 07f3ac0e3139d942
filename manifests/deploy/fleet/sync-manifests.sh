#!/usr/bin/env bash
# Publishes a directory of manifests to every node of a fleet and waits until the fleet serves it.
#   NODES="edge-1 edge-2 edge-3" API_TOKEN=... ./sync-manifests.sh ./manifests
# Each node gets the tree with `rsync --delete --delay-updates` (files renamed into place at the
# end, so ingressd sees the change as one batch and makes one Caddy write), then `ingressd fleet`
# waits until every node serves the same version of every file (exit 1 after FLEET_WAIT).
set -euo pipefail
src="${1:?usage: NODES='host ...' sync-manifests.sh MANIFEST_DIR}"
: "${NODES:?set NODES to the host names of the nodes}"
dest="${MANIFEST_DIR:-/etc/ingressd/manifests}"
api_port="${API_PORT:-8089}"
ingressd="${INGRESSD:-ingressd}"

# Refuse to publish what would not be accepted: the same checks the nodes make.
"$ingressd" validate "$src"

urls=()
for node in $NODES; do
  rsync -a --delete --delay-updates --exclude '*.status.json' "$src/" "$node:$dest/"
  urls+=("http://$node:$api_port")
done
exec "$ingressd" fleet --wait "${FLEET_WAIT:-2m}" "${urls[@]}"
