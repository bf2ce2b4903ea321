# Herd compute agent: one per Docker host. Runs privileged with the host's PID namespace, Docker
# socket, cgroup tree and Docker data root (see the `compute` profile in docker-compose.yml):
# it reads cgroups, checkpoints with runc/CRIU and moves container layers with rsync.
# Build from the repository root: docker build -f infra/docker/agent.Dockerfile .
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
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      rsync runc iproute2 procps ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
# CRIU 4.x in a private prefix (Debian 12's 3.17 fails on recent kernels; see the script).
COPY infra/install-criu.sh /usr/local/sbin/install-criu.sh
RUN /usr/local/sbin/install-criu.sh
ENV NODE_ENV=production HERD_STATE_DIR=/var/lib/herd/agent HERD_DOCKER_HOST=unix:///var/run/docker.sock
WORKDIR /herd
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /herd/dist ./dist
VOLUME /var/lib/herd/agent
CMD ["node", "--enable-source-maps", "dist/services/compute-agent/src/main.js"]
