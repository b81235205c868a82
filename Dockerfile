# Build: docker build -t mejora .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin mejora

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/mejora mejora \
    && mkdir -p /var/lib/mejora && chown mejora /var/lib/mejora
COPY --from=build /src/target/release/mejora /usr/local/bin/mejora
USER mejora
WORKDIR /var/lib/mejora
ENV MEJORA_BIND=0.0.0.0:8080 MEJORA_LOG_FORMAT=json MEJORA_STORAGE_URL=file:///var/lib/mejora/files
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["mejora"]
CMD ["serve"]
