#!/usr/bin/env bash
# Restarts ingressd on every node of a fleet, one node at a time (an upgrade, a config change):
#   NODES="edge-1 edge-2 edge-3" API_TOKEN=... ./rolling-restart.sh
# Caddy and the instance DNS outlive an ingressd restart (KillMode=process in ingressd.service),
# so no node stops serving; waiting for each node's /readyz before the next one keeps at most one
# node's controller away at a time. Ends with `ingressd fleet`: exit 0 once the fleet converged.
set -euo pipefail
: "${NODES:?set NODES to the host names of the nodes}"
api_port="${API_PORT:-8089}"
ingressd="${INGRESSD:-ingressd}"
auth=()
[ -n "${API_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $API_TOKEN")

urls=()
for node in $NODES; do
  ssh "$node" sudo systemctl restart ingressd
  for _ in $(seq 1 120); do
    curl -fsS "${auth[@]}" "http://$node:$api_port/readyz" >/dev/null 2>&1 && break
    sleep 1
  done
  curl -fsS "${auth[@]}" "http://$node:$api_port/readyz" >/dev/null || { echo "$node: not ready after 120 s; stopping the rollout" >&2; exit 1; }
  urls+=("http://$node:$api_port")
done
exec "$ingressd" fleet --wait "${FLEET_WAIT:-1m}" "${urls[@]}"
