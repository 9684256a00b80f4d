# Renkei Hub in a container: the `hub` binary and the four shipped connector plugins, nothing
# else (no test plugins, no bench, no sources). Data lives in the volume /data.
#
#   docker build -t renkei-hub .
#   docker run -d --name renkei-hub -p 8080:8080 -v renkei-hub-data:/data renkei-hub
#
# README.md "Deploy" says how to create the first administrator, back up the master key and run
# several hubs on one PostgreSQL database (compose.yaml).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
WORKDIR /src
COPY . .
# The registry and target folders are build caches; the results are copied out of the cached
# target folder in the same step. The hub finds its connectors beside its executable by the
# `renkei_connector_*` library names (README: HUB_PLUGINS). A production image leaves the
# sandbox's emulators out (`--no-default-features`: `hub sandbox` then says how to get them).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --no-default-features -p hub \
        -p connector-kintone -p connector-zoho-crm -p connector-notes -p connector-obc \
    && mkdir -p /out \
    && cp target/release/hub \
          target/release/librenkei_connector_kintone.so \
          target/release/librenkei_connector_zoho_crm.so \
          target/release/librenkei_connector_notes.so \
          target/release/librenkei_connector_obc.so \
          /out/

FROM debian:${DEBIAN_RELEASE}-slim
# ca-certificates: the connectors and webhooks speak https; curl: the health check. Not pinned:
# a pinned Debian version stops building when a security update replaces it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 hub \
    && useradd --system --uid 10001 --gid hub --home-dir /data --shell /usr/sbin/nologin hub \
    && mkdir -p /data/files \
    && chown -R hub:hub /data
# The plugins sit beside the executable, where the hub looks by default; more plugins can be
# mounted at /opt/renkei-hub/plugins. The symlink keeps that folder the executable's own.
COPY --from=builder /out/ /opt/renkei-hub/
RUN ln -s /opt/renkei-hub/hub /usr/local/bin/hub

# Inside a container the hub must listen on every interface; publish the port to choose who
# reaches it. HUB_PUBLIC_URL is how browsers reach it (OAuth redirects, links in mails): set it
# to the real address.
ENV HUB_LISTEN=0.0.0.0:8080 \
    HUB_DATABASE_URL=sqlite:///data/hub.db \
    HUB_MASTER_KEY_FILE=/data/master.key \
    HUB_FILES_ROOT=/data/files \
    HUB_PUBLIC_URL=http://localhost:8080

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers 200 while the database answers. The port follows HUB_LISTEN.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${HUB_LISTEN##*:}/healthz\""]
# `hub serve` stops on SIGTERM within HUB_SHUTDOWN_SECS (20): give `docker stop` -t 30.
STOPSIGNAL SIGTERM
ENTRYPOINT ["hub"]
CMD ["serve"]
