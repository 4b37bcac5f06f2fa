# One image for every process of the service: `serve` (the default), `worker`, `migrate:up`, and the
# other operator commands. Build: `docker build -t cluster-code .` (see README, "Running it for real").
#
# With DevPod inside (the worker needs it), name a release binary and its SHA-256:
#   docker build \
#     --build-arg DEVPOD_URL=https://github.com/loft-sh/devpod/releases/download/vX.Y.Z/devpod-linux-amd64 \
#     --build-arg DEVPOD_SHA256=<sha256 of that file> -t cluster-code .
# The same way, DOCKER_CLI_URL and DOCKER_CLI_SHA256 put a static docker CLI beside it (for DevPod's
# `docker` provider only). Nothing is downloaded at run time.

# Another base may be named with --build-arg NODE_IMAGE=... (the stack test builds from a stand-in
# made of the machine's own Node 20, where no registry is reachable).
ARG NODE_IMAGE=node:20-bookworm-slim

# The npm workspace manifests: `npm ci` needs every workspace's package.json beside the lockfile.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY db/package.json db/
COPY server/package.json server/
COPY cli/package.json cli/
COPY client-sdk/package.json client-sdk/

# Compiles db, server and cli to each package's dist/ (`tsc -b tsconfig.build.json`).
FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY db/tsconfig.json db/
COPY db/src db/src
COPY server/tsconfig.json server/
COPY server/src server/src
COPY cli/tsconfig.json cli/
COPY cli/src cli/src
RUN npm run build

# Production dependencies only; node_modules/@cluster-code/* are links to the workspace folders, whose
# package.json `exports` send `default` to ./dist/index.js.
FROM manifests AS production-dependencies
RUN npm ci --omit=dev --no-audit --no-fund

# The DevPod CLI, when DEVPOD_URL is given; the checksum is required so the build is reproducible.
FROM ${NODE_IMAGE} AS devpod
ARG DEVPOD_URL=
ARG DEVPOD_SHA256=
WORKDIR /out
RUN if [ -n "$DEVPOD_URL" ]; then \
      if [ -z "$DEVPOD_SHA256" ]; then echo "DEVPOD_SHA256 is required with DEVPOD_URL" >&2; exit 1; fi; \
      node -e 'fetch(process.env.DEVPOD_URL).then(async (r) => { if (!r.ok) throw new Error(`HTTP ${r.status} for ${process.env.DEVPOD_URL}`); require("node:fs").writeFileSync("devpod", Buffer.from(await r.arrayBuffer())); }).catch((e) => { console.error(e.message); process.exit(1); })' \
        && echo "$DEVPOD_SHA256  devpod" | sha256sum -c - \
        && chmod 0755 devpod; \
    fi
# The docker CLI, when DOCKER_CLI_URL names a static release (download.docker.com/linux/static/stable/
# x86_64/docker-<version>.tgz): only DevPod's `docker` provider needs it (docker-compose.docker-provider.yml).
ARG DOCKER_CLI_URL=
ARG DOCKER_CLI_SHA256=
RUN if [ -n "$DOCKER_CLI_URL" ]; then \
      if [ -z "$DOCKER_CLI_SHA256" ]; then echo "DOCKER_CLI_SHA256 is required with DOCKER_CLI_URL" >&2; exit 1; fi; \
      node -e 'fetch(process.env.DOCKER_CLI_URL).then(async (r) => { if (!r.ok) throw new Error(`HTTP ${r.status} for ${process.env.DOCKER_CLI_URL}`); require("node:fs").writeFileSync("docker.tgz", Buffer.from(await r.arrayBuffer())); }).catch((e) => { console.error(e.message); process.exit(1); })' \
        && echo "$DOCKER_CLI_SHA256  docker.tgz" | sha256sum -c - \
        && tar -xzf docker.tgz --strip-components=1 docker/docker \
        && rm docker.tgz \
        && chmod 0755 docker; \
    fi

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/data \
    DEVPOD_BIN=/usr/local/bin/devpod
WORKDIR /app
COPY --from=manifests /app/ ./
COPY --from=production-dependencies /app/node_modules node_modules
COPY --from=build /app/db/dist db/dist
COPY db/migrations db/migrations
COPY --from=build /app/server/dist server/dist
COPY --from=build /app/cli/dist cli/dist
COPY cli/bin cli/bin
COPY --from=devpod /out/ /usr/local/bin/
# The code stays root-owned and read-only to the service; only DATA_DIR is its own.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# For `serve`; compose turns it off for `worker` and `migrate:up`, which listen on no port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "cli/bin/cluster-code.js"]
CMD ["serve"]
