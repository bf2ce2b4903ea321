# Herd control service: REST API, ingest, forecaster, placement, migration orchestrator.
# Build from the repository root: docker build -f infra/docker/control.Dockerfile .
FROM node:20-bookworm-slim AS build
WORKDIR /herd
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.ui.json ./
COPY scripts ./scripts
COPY shared ./shared
COPY services ./services
COPY test ./test
COPY bench ./bench
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production HERD_STATE_DIR=/var/lib/herd HERD_API_HOST=0.0.0.0 HERD_API_PORT=7070
WORKDIR /herd
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /herd/dist ./dist
VOLUME /var/lib/herd
EXPOSE 7070
USER node
CMD ["node", "--enable-source-maps", "dist/services/control/src/main.js"]
