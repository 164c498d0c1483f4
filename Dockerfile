# syntax=docker/dockerfile:1
# DemandScreen's release image: demandscreend and the demandscreen CLI, built with the Swift
# standard library linked statically, on Debian bookworm-slim with MeCab, IPADIC and libstemmer.
#
#   docker build -t demandscreen .
#   docker run --rm -p 7443:7443 -p 127.0.0.1:9464:9464 -v demandscreen-data:/var/lib/demandscreen demandscreen
#
# The container's defaults, set below as DEMANDSCREEN_* environment variables: data folder
# /var/lib/demandscreen (a VOLUME), screening port 7443 on 0.0.0.0, ops port 9464 on 0.0.0.0
# (/healthz, /readyz, /metrics; plain HTTP, no customer data: publish it only to an internal
# network). The environment wins over a configuration file (--config / DEMANDSCREEN_CONFIG), so
# change these four with -e, not in the file. The HEALTHCHECK follows DEMANDSCREEN_OPS_PORT.
# The embedded default's development certificate names only localhost and 127.0.0.1: give a real
# deployment its own tls.certificate / tls.privateKey and auth.tokens (Deploy/kubernetes,
# Deploy/compose). Stop it with at least shutdown.gracePeriodSeconds (30) to spare:
# `docker stop -t 45`. Scripts/check-deploy.sh lints this file (hadolint).

FROM swift:6.2-bookworm AS build
# Headers and link libraries of the two system libraries (Package.swift's CMeCab and CStemmer).
# Unpinned on purpose (DL3008): bookworm's point releases replace these versions with security
# fixes, and an old pin would stop the build once the archive drops it; the base tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libmecab-dev libstemmer-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The commands CI and Scripts/bench-storage.sh use (swift build -c release --product …), with the
# standard library linked in; the resource bundles (the built-in policy and response templates)
# go next to the executables, where Bundle.module looks first. The cache mount keeps .build
# between builds of the image on the same machine.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product demandscreend \
 && swift build -c release --static-swift-stdlib --product demandscreen \
 && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
 && mkdir -p /out \
 && cp "$bin/demandscreend" "$bin/demandscreen" /out/ \
 && cp -R "$bin"/*.resources /out/

FROM debian:bookworm-slim
# What the executables load at run time: MeCab and its IPADIC dictionary in UTF-8 (read from
# /var/lib/mecab/dic/ipadic-utf8, judgment.mecabDictionary's default), Snowball's stemmers,
# SQLite (GRDB links the system's), and the CA bundle that PostgreSQL's sslmode=require/prefer
# verifies the server against. Unpinned for the reason given in the build stage.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libmecab2 mecab-ipadic-utf8 libsqlite3-0 libstemmer0d \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 demandscreen \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/demandscreen --no-create-home \
      --shell /usr/sbin/nologin demandscreen \
 && mkdir -p /var/lib/demandscreen \
 && chown 10001:10001 /var/lib/demandscreen \
 && chmod 0700 /var/lib/demandscreen
COPY --from=build /out/ /opt/demandscreen/bin/
COPY --chmod=0755 Deploy/docker/healthcheck.sh /opt/demandscreen/bin/healthcheck
ENV PATH=/opt/demandscreen/bin:$PATH \
    DEMANDSCREEN_DATA_DIRECTORY=/var/lib/demandscreen \
    DEMANDSCREEN_LISTEN_HOST=0.0.0.0 \
    DEMANDSCREEN_OPS_HOST=0.0.0.0 \
    DEMANDSCREEN_OPS_PORT=9464
# The state (SQLite history, or the development PKI and tokens of the embedded default).
VOLUME ["/var/lib/demandscreen"]
# 7443: the screening protocol over TLS. 9464: the ops port (HTTP).
EXPOSE 7443/tcp 9464/tcp
# A numeric user, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# Liveness from /healthz on the ops port, through bash's /dev/tcp: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/opt/demandscreen/bin/healthcheck"]
ENTRYPOINT ["/opt/demandscreen/bin/demandscreend"]
