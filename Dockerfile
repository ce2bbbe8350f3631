# syntax=docker/dockerfile:1
# The vaultsync operator image: `make image` (docs/install.md). Three stages on Node 24:
# compile src/ to dist/, install the production dependencies, copy both onto a clean base
# that runs as a non-root user. test/install.test.ts runs the prod-deps RUN lines and starts
# the result, since no container engine runs on the development machine.
#
# NODE_IMAGE, required: the Node 24 base pinned by digest, node:24-bookworm-slim@sha256:<digest>
# (docs/install.md says how to look the digest up). `make image` refuses a tag without a digest
# unless ALLOW_UNPINNED=1: a tag moves, so the same Dockerfile would build another image tomorrow.
ARG NODE_IMAGE

# 1. TypeScript → ESM JavaScript in dist/ (tsconfig.build.json: tests and test support left out,
#    no source maps; make check-dist keeps it so).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN node_modules/.bin/tsc -p tsconfig.build.json && find dist -name '*.map' -delete

# 2. Production dependencies only, without install scripts (none is needed at run time), type
#    declarations or source maps.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
RUN find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

# 3. The runtime: node, the compiled operator and its dependencies; no npm, no shell tools used.
FROM ${NODE_IMAGE}
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The gRPC API's definitions, loaded at run time (src/grpc/proto.ts).
COPY proto ./proto
# A numeric user, so runAsNonRoot can be verified; the chart sets the same ids.
USER 65532:65532
EXPOSE 8081
# No --enable-source-maps: the image ships no source maps (stack traces name dist/ files).
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["run", "--config", "/etc/vaultsync/config.yaml"]
