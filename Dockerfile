# syntax=docker/dockerfile:1
# sidecar-guard: build with the full toolchain, run on a slim Node 20 with production dependencies only.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: npm ci (with dev dependencies) and tsc -> dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only, no install scripts
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime: node, the compiled code and production node_modules; no npm, npx, corepack or yarn
FROM ${NODE_IMAGE} AS runtime
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
      /root/.npm /tmp/*
ENV NODE_ENV=production
# In a container the webhook must listen on every interface; run locally it defaults to loopback.
ENV SIDECAR_GUARD_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/dist ./dist
COPY --chown=0:0 package.json ./
# Files stay root-owned and read-only to the process; it runs as an unprivileged numeric user
# (the Helm chart's runAsUser), which Kubernetes can verify for runAsNonRoot.
USER 65532:65532
EXPOSE 8443
# node is PID 1 and `serve` handles SIGTERM itself: /readyz fails, in-flight requests drain, then exit.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--enable-source-maps", "dist/cli/main.js"]
CMD ["serve"]
