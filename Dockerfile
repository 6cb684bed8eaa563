# syntax=docker/dockerfile:1
# The application image: `rdd worker` (the default command) and `rdd serve`, on Node 24 on glibc
# (Debian bookworm: @swc/core, which bundles workflows, ships glibc binaries), as the non-root user
# `node`, with production dependencies only and the workflow bundle prebuilt. The TypeScript source
# runs as is (Node 24 type stripping): there is no compile step.
#
#   docker build -t rdd-orchestrator .                   the worker and API image
#   docker build --target emulator -t rdd-emulator .     the Speech Platform emulator (development)
#
# No Docker engine runs on this project's development and CI machines: test/e2e/deployment.test.ts
# runs this file's steps there without one (the install, the bundle, the worker on the bundle).
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies. Install scripts run only for the packages package.json `allowScripts`
# names (protobufjs, @swc/core), through `npm rebuild`; the project's own `prepare` (the library
# build, which needs TypeScript and the sources) does not run.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild protobufjs @swc/core \
 && npm cache clean --force

# The workflow bundle, built once here rather than by webpack at every worker start.
FROM deps AS bundle
COPY src ./src
COPY scripts/bundle-workflows.ts ./scripts/
RUN node scripts/bundle-workflows.ts build/workflow-bundle.js

# The Speech Platform emulator: development only (docker-compose.yml's `emulator` profile). It
# needs the devDependencies (audio decoders) and dev/, which the runtime image leaves out.
FROM ${NODE_IMAGE} AS emulator
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild protobufjs @swc/core \
 && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY dev ./dev
USER node
EXPOSE 8600
ENTRYPOINT ["bin/rdd"]
CMD ["emulator", "--host", "0.0.0.0", "--port", "8600"]

# The image that ships (the last stage, so the default target). Files stay root-owned: the process
# reads them and writes nothing here.
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    WORKER_WORKFLOW_BUNDLE=/app/build/workflow-bundle.js
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
COPY --from=bundle /app/build ./build
USER node
# bin/rdd execs node: the signal a supervisor sends (SIGTERM) reaches the worker itself, which
# lets running activities finish (WORKER_SHUTDOWN_GRACE_MS).
ENTRYPOINT ["bin/rdd"]
CMD ["worker"]
