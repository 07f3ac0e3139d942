# syntax=docker/dockerfile:1
#
# ingressd with a Caddy that has the Cloudflare DNS module (needed for dns-01 certificates).
#
#   docker build -t ingressd .
#   docker run -d --network host -v /etc/ingressd/manifests:/etc/ingressd/manifests \
#     -v ingressd-state:/var/lib/ingressd ingressd
#
# See manifests/deploy/README.md (and docker-compose.yml there) for the settings that matter.

# ---- 1. Caddy with the Cloudflare DNS provider ---------------------------------------------------
# The 2.x builder follows Caddy's releases, so Caddy and the module's latest version always build
# together. ingressd is tested against Caddy 2.6.2 and also reads 2.8+'s ETag header; for a
# reproducible image, pin both: --build-arg CADDY_BUILDER_TAG=<x.y.z>-builder and
# --build-arg CADDY_DNS_MODULE=github.com/caddy-dns/cloudflare@<version>.
ARG CADDY_BUILDER_TAG=2-builder
FROM caddy:${CADDY_BUILDER_TAG} AS caddy
ARG CADDY_DNS_MODULE=github.com/caddy-dns/cloudflare
# Static binary: it is built on Alpine (musl) and runs on Debian (glibc).
ENV CGO_ENABLED=0
# Fail the build, not the first certificate, when the module is missing (no pipe: no pipefail in sh).
RUN xcaddy build --with "${CADDY_DNS_MODULE}" --output /out/caddy \
 && /out/caddy list-modules > /tmp/modules.txt \
 && grep -qx 'dns.providers.cloudflare' /tmp/modules.txt

# ---- 2. ingressd: compile TypeScript, then drop the dev dependencies ------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
COPY bench ./bench
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- 3. runtime ------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime

COPY --from=caddy /out/caddy /usr/local/bin/caddy

# Binding 80/443 as a non-root user: file capability on the caddy binary, set here in the final
# stage. Setting it in the builder and relying on COPY to carry the security.capability xattr is
# unreliable (it depends on the builder, the storage driver and the registry), and Docker's
# "unprivileged ports from 0" sysctl does not apply with --network host, which is the usual way to
# run an ingress. Needs NET_BIND_SERVICE in the container's bounding set (Docker's default) and no
# `no-new-privileges` (which makes the kernel ignore file capabilities): otherwise run with
# CADDY_HTTP_PORT/CADDY_HTTPS_PORT >= 1024 instead.
# ca-certificates stays: Caddy talks HTTPS to the ACME CA and the Cloudflare API; node:*-slim has none.
# libcap2-bin is only needed for setcap, so it is removed in the same layer.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libcap2-bin \
 && setcap cap_net_bind_service=+ep /usr/local/bin/caddy \
 && apt-get purge -y --auto-remove libcap2-bin \
 && rm -rf /var/lib/apt/lists/* \
 && caddy version

# The application is owned by root and read-only for the service user; only the two volumes are writable.
WORKDIR /opt/ingressd
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/schemas ./schemas
COPY --from=build /src/dist ./dist

RUN groupadd --system --gid 10001 ingressd \
 && useradd --system --uid 10001 --gid ingressd --home-dir /var/lib/ingressd --no-create-home --shell /usr/sbin/nologin ingressd \
 && mkdir -p /etc/ingressd/manifests /var/lib/ingressd \
 && chown ingressd:ingressd /etc/ingressd/manifests /var/lib/ingressd

# API_LISTEN stays on loopback: the HTTP API creates and deletes ingresses (it decides what the
# public listeners route where), and ingressd refuses a non-loopback API_LISTEN without API_TOKEN.
# Loopback still serves the HEALTHCHECK below. To reach the API from outside the container, set
# both API_LISTEN=0.0.0.0:8089 and API_TOKEN (and publish the port only where it is needed).
ENV NODE_ENV=production \
    DATA_DIR=/var/lib/ingressd \
    MANIFEST_DIR=/etc/ingressd/manifests \
    CADDY_LISTEN_ADDRESS=0.0.0.0 \
    API_LISTEN=127.0.0.1:8089

# Declared after the chown so that new named volumes start out owned by ingressd.
VOLUME ["/etc/ingressd/manifests", "/var/lib/ingressd"]
EXPOSE 80 443

USER ingressd

# Liveness of the controller process (needs the API: API_LISTEN=off disables this check's target).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8089/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# Caddy and the instance DNS are started by `run` as detached children. In a container they end
# with it (PID 1); with DATA_DIR on a volume, a restarted container's Caddy starts from the last
# applied config at once. Run with an init (`docker run --init`, compose `init: true`) to reap them.
ENTRYPOINT ["node", "/opt/ingressd/dist/src/cli/main.js"]
CMD ["run"]
