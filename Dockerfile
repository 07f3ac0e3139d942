# syntax=docker/dockerfile:1
#
# ingressd with the same Caddy the tests drive: the first Caddy of caddy/modules.pin (2.11.9) with
# every plugin pinned there (DNS providers cloudflare and rfc2136, rate limiting, Redis storage).
#
#   docker build -t ingressd .
#   docker build --build-arg CADDY_VERSION=v2.10.2 -t ingressd:caddy-2.10 .   # another pinned Caddy
#   docker run -d --network host -v /etc/ingressd/manifests:/etc/ingressd/manifests \
#     -v ingressd-state:/var/lib/ingressd ingressd
#
# See manifests/deploy/README.md (and docker-compose.yml there) for the settings that matter.

# ---- 1. Caddy from caddy/modules.pin, built with xcaddy as scripts/build-caddy.sh does ------------
# caddy/xcaddy-args.sh turns the pin file into xcaddy's arguments (both builds read it), so a version
# changed there changes the image and the tests together. Caddy >= 2.10.1 needs Go >= 1.25; the
# tests' Caddys are built with Go 1.26 here, and so is the image's.
ARG GO_IMAGE=golang:1.26-bookworm
FROM ${GO_IMAGE} AS caddy
# Empty: the first `caddy` line of the pin file. Otherwise one of its other `caddy` lines.
ARG CADDY_VERSION=
# The xcaddy scripts/build-caddy.sh installs.
ARG XCADDY_VERSION=v0.4.5
# Static binary (it runs in the node image); the Go of this image, never a downloaded toolchain.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod
WORKDIR /build
RUN go install "github.com/caddyserver/xcaddy/cmd/xcaddy@${XCADDY_VERSION}"
COPY caddy/modules.pin caddy/xcaddy-args.sh ./caddy/
# Fail the build, not the first certificate, when a pinned plugin is not in the binary (no pipe:
# sh has no pipefail). The arguments hold no spaces: word splitting of $args is intended.
RUN args="$(sh caddy/xcaddy-args.sh ${CADDY_VERSION})" \
 && echo "xcaddy build ${args}" \
 && xcaddy build ${args} --output /out/caddy \
 && /out/caddy list-modules --packages > /tmp/modules.txt \
 && for word in ${args}; do case "${word}" in *@*) grep -q " ${word%@*}\$" /tmp/modules.txt || { echo "missing from the build: ${word}" >&2; exit 1; } ;; esac; done \
 && /out/caddy version

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
# ca-certificates stays: Caddy talks HTTPS to the ACME CA and DNS provider APIs; node:*-slim has none.
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
