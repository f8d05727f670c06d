# happysad serve in a container: the default model (models/default), the face nets (models/faces and
# face-api's weights inside node_modules) and the wasm binaries are all in the image, so nothing is
# fetched when it starts. See docs/deploy.md.
#
#   docker build -t happysad .
#   docker run --rm -p 8080:8080 happysad        # then open http://127.0.0.1:8080/

# ---- build: install, compile, then drop the devDependencies ----
FROM node:24-bookworm-slim AS build
WORKDIR /app

# The manifests alone first, so that the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
# --ignore-scripts: the project's own `prepare` (npm run build) needs the sources, copied below, and no
# dependency needs its install script here (sharp, esbuild and msgpackr-extract come as prebuilt
# platform packages).
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY cli ./cli
COPY scripts ./scripts
COPY models ./models
COPY web ./web
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: only what `happysad serve` reads ----
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080

# Owned by root and only readable by the server's user: the image's files never change at run time.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/models/default ./models/default
COPY --from=build /app/models/faces ./models/faces

USER node
EXPOSE 8080

# Slim images have no curl: node's own fetch asks /healthz, which the server answers only once the
# model is loaded and warmed up (it listens after that).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# serve reads PORT and HOST from the environment (a flag wins); SIGTERM drains it.
# Inference threads default to the cores Node sees, at most 4; in a CPU-limited container pass
# --concurrency N to match the CPUs it gets (the Kubernetes example does).
CMD ["node", "dist/cli/main.js", "serve"]
