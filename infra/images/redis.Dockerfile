# herd/redis: Debian's redis-server on herd/base. Built by infra/images/build.sh (--network none).
ARG FROM
FROM ${FROM}
COPY debs/ /tmp/debs/
COPY entrypoints/install-debs entrypoints/herd-secret entrypoints/redis-entrypoint entrypoints/redis-healthcheck /usr/local/bin/
COPY entrypoints/redis-persistence.conf /etc/redis/herd-persistence.conf
RUN install-debs && mkdir -p /data && chown redis:redis /data
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["/usr/bin/tini", "--", "redis-entrypoint"]
