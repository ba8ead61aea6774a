# The schoolday image for `schoolday kube`: one binary on a small Debian, running as a
# non-root user. Build it from the repository root:
#
#   docker build -t registry.example.org/schoolday:0.1.0 .
#   docker push registry.example.org/schoolday:0.1.0
#
# Stage 1 builds in the official Rust image (which has the C compiler `ring` needs); the cache
# mounts keep the registry and the target directory between builds (BuildKit, the default
# builder of current Docker). Stage 2 holds the binary, the CA certificates its TLS client
# verifies servers with, and the shipped scenarios.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src src
COPY assets assets
COPY bench bench
COPY docs docs
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin schoolday \
    && cp target/release/schoolday /usr/local/bin/schoolday

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --home-dir /work --create-home schoolday
COPY --from=build /usr/local/bin/schoolday /usr/local/bin/schoolday
COPY scenarios /usr/share/schoolday/scenarios
USER 10001:10001
WORKDIR /work
ENV NO_COLOR=1
ENTRYPOINT ["schoolday"]
CMD ["--help"]
