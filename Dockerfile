# One image for every CohortSync executable: the stages, the operator CLI and the ads sandbox.
# docker-compose.yml and ops/kubernetes run it with a different command per service.

# Build: the Swift toolchain (the version CI builds with) plus the three C libraries' headers.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librdkafka-dev libssl-dev libmicrohttpd-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Shared ./Shared
COPY Services ./Services
COPY Benchmarks ./Benchmarks
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib \
        --product cohortsync --product cohortsync-ingest --product cohortsync-normalize --product cohortsync-batcher \
        --product cohortsync-upload-x --product cohortsync-upload-tiktok --product cohortsync-sandbox \
    && mkdir /out \
    && for exe in cohortsync cohortsync-ingest cohortsync-normalize cohortsync-batcher cohortsync-upload-x cohortsync-upload-tiktok cohortsync-sandbox; do \
         cp ".build/release/$exe" /out/; \
       done

# Run: the C libraries' runtime packages (libcurl for FoundationNetworking's URLSession), an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librdkafka1 libssl3 libmicrohttpd12 ca-certificates libcurl4 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 cohortsync
COPY --from=build /out/ /usr/local/bin/
COPY examples/config.json /etc/cohortsync/config.json
USER 10001
ENV COHORTSYNC_CONFIG=/etc/cohortsync/config.json
# Each service names its executable; the sandbox is the harmless default.
CMD ["cohortsync-sandbox", "--host", "0.0.0.0"]
