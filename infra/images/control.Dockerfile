# herd/control: this host's node binary and Herd's dist/ with its production node_modules, on
# herd/base. Built by infra/images/build.sh (--network none).
ARG FROM
FROM ${FROM}
COPY node /usr/local/bin/node
COPY entrypoints/herd-secret entrypoints/control-entrypoint /usr/local/bin/
COPY app/ /herd/
RUN node --version >/dev/null && useradd --system --uid 10001 --home-dir /var/lib/herd --shell /usr/sbin/nologin herd \
 && mkdir -p /var/lib/herd && chown herd:herd /var/lib/herd
ENV NODE_ENV=production HERD_STATE_DIR=/var/lib/herd HERD_API_HOST=0.0.0.0 HERD_API_PORT=7070
WORKDIR /herd
VOLUME /var/lib/herd
EXPOSE 7070
ENTRYPOINT ["/usr/bin/tini", "--", "control-entrypoint"]
