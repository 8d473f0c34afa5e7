# Builds the minimodules binary and runs it on a slim Debian. Used by compose.yaml.
FROM rust:1.90-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p mm-server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/minimodules /usr/local/bin/minimodules
RUN useradd --system --home /var/lib/minimodules minimodules && mkdir -p /var/lib/minimodules && chown minimodules /var/lib/minimodules
USER minimodules
WORKDIR /var/lib/minimodules
EXPOSE 50051 8080
CMD ["minimodules", "serve"]
