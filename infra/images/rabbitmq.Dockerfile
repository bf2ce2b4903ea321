# herd/rabbitmq: Debian's rabbitmq-server with the management plugin, on herd/base. Built by
# infra/images/build.sh (--network none; FROM is the local base image, never a registry's).
ARG FROM
FROM ${FROM}
COPY debs/ /tmp/debs/
COPY entrypoints/install-debs entrypoints/herd-secret entrypoints/rabbitmq-entrypoint /usr/local/bin/
RUN install-debs && rabbitmq-plugins enable --offline rabbitmq_management >/dev/null \
 && mkdir -p /etc/rabbitmq/conf.d && chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672 15672
ENTRYPOINT ["/usr/bin/tini", "--", "rabbitmq-entrypoint"]
