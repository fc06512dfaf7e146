# guitar-backend service image.
#   docker build -t guitar-backend:0.1.0 .
# Multi-stage: the build stage compiles the workspace, `pnpm deploy` copies the app with its
# production dependencies only, exactly as the workspace lockfile pins them (injected workspace
# packages: no second resolution, no registry metadata needed); the runtime stage runs it as a
# fixed non-root user.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# pnpm pinned as in package.json; installed with npm (Node 20's corepack rejects current pnpm signatures).
RUN npm install --global pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json ./
COPY packages/logger/package.json packages/logger/
COPY packages/fluent-config/package.json packages/fluent-config/
COPY packages/deploy/package.json packages/deploy/
COPY packages/app/package.json packages/app/
RUN pnpm install --frozen-lockfile
COPY packages/logger packages/logger
COPY packages/app packages/app
RUN pnpm exec tsc -b packages/app \
 && pnpm --filter @guitar-backend/app deploy --prod --config.inject-workspace-packages=true /out \
 && rm -rf /out/test /out/bench /out/dist/test /out/dist/bench /out/src

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8000 \
    LOG_DIR=/var/log/guitar-backend \
    LOG_STDOUT=off
# glibc's malloc with a fixed mmap threshold (packages/app/src/memory/malloc-env.ts says why):
# large upload and signal buffers go back to the system when freed, so RSS returns after a job.
ENV MALLOC_MMAP_THRESHOLD_=131072
# Fixed numeric ids: Kubernetes runAsUser/fsGroup and the compose volume permissions use them.
RUN groupadd --gid 10001 guitar \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin guitar \
 && mkdir -p /var/log/guitar-backend \
 && chown 10001:10001 /var/log/guitar-backend \
 && chmod 2775 /var/log/guitar-backend
WORKDIR /app
COPY --from=build --chown=0:0 /out ./
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --expose-gc: the service collects its garbage once when it goes idle (packages/app/src/memory/node-flags.ts).
CMD ["node", "--expose-gc", "dist/src/main.js"]
