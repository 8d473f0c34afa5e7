# Builds the minimodules binary and the admin dashboard and runs them on a slim Debian. Used by
# compose.yaml.
FROM node:20-bookworm AS admin
WORKDIR /src
COPY buf.yaml ./
COPY proto proto
COPY web-admin/package.json web-admin/package-lock.json web-admin/
RUN npm ci --prefix web-admin --no-audit --no-fund
COPY web-admin web-admin
RUN npm --prefix web-admin run build

FROM rust:1.90-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p mm-server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/minimodules /usr/local/bin/minimodules
COPY --from=admin /src/web-admin/dist /usr/local/share/minimodules/admin
ENV MINIMODULES_ADMIN__DIR=/usr/local/share/minimodules/admin
RUN useradd --system --home /var/lib/minimodules minimodules && mkdir -p /var/lib/minimodules && chown minimodules /var/lib/minimodules
USER minimodules
WORKDIR /var/lib/minimodules
EXPOSE 50051 8080
CMD ["minimodules", "serve"]
