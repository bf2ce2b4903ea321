# herd/agent: herd/control's node and app plus what the agent runs (runc, rsync, ip/tc, arping,
# iptables-restore, which CRIU uses to lock a container's network while it dumps TCP connections,
# nsenter) from Debian packages and CRIU 4 copied from the host's /opt/herd/criu (forky's criu
# with its own loader and libraries, see infra/install-criu.sh). Nothing here needs privileges at
# build time: CRIU is checked when the container starts (agent-entrypoint). Built by
# infra/images/build.sh (--network none).
ARG FROM
FROM ${FROM}
COPY debs/ /tmp/debs/
COPY entrypoints/install-debs entrypoints/agent-entrypoint /usr/local/bin/
COPY criu/ /opt/herd/criu/
RUN install-debs \
 && printf '#!/bin/sh\nexec /opt/herd/criu/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path /opt/herd/criu/usr/lib/x86_64-linux-gnu:/opt/herd/criu/lib/x86_64-linux-gnu /opt/herd/criu/usr/sbin/criu "$@"\n' >/usr/local/bin/criu \
 && chmod 0755 /usr/local/bin/criu && criu --version >/dev/null \
 && mkdir -p /etc/criu && echo tcp-established >/etc/criu/runc.conf
ENV HERD_STATE_DIR=/var/lib/herd/agent HERD_DOCKER_HOST=unix:///var/run/docker.sock
ENTRYPOINT ["/usr/bin/tini", "--", "agent-entrypoint"]
