# syntax=docker/dockerfile:1
# posture as a small, static, non-root image:
#   docker build -t posture .
#   docker run --rm -v "$PWD:/src" posture scan -f .
# The binary is linked statically against musl: posture talks TLS through rustls and ring, with
# no OpenSSL, so nothing from a libc is needed at run time and the final image is
# distroless/static (no shell, no package manager, uid 65532). See docs/ci.md.

# Stamped into the images' labels by the release job: --build-arg VERSION=... REVISION=<commit>.
ARG VERSION=0.1.0
ARG REVISION=unknown

# Native build for the platform being built (docker buildx --platform linux/amd64,linux/arm64
# builds each under its own architecture), so musl-gcc is the right C compiler for ring and
# mimalloc without a cross toolchain.
FROM rust:1-slim-bookworm AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY . .
# The cache mounts keep the crate downloads and compiled dependencies between builds; the binary
# is copied out in the same step because the target directory is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/build/target \
    set -eu; \
    target="$(uname -m)-unknown-linux-musl"; \
    rustup target add "$target"; \
    export "CC_$(echo "$target" | tr - _)=musl-gcc"; \
    cargo build --release --locked --bin posture --target "$target"; \
    cp "target/$target/release/posture" /posture

# For CI systems that run a job's script with a shell inside the image (GitLab CI): the same
# binary on distroless's debug variant, which adds a busybox shell. `docker build --target debug`.
FROM gcr.io/distroless/static-debian12:debug-nonroot AS debug
ARG VERSION
LABEL org.opencontainers.image.title="posture (debug: with a busybox shell)" \
      org.opencontainers.image.source="https://github.com/posture-dev/posture" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=builder /posture /posture
WORKDIR /src
ENTRYPOINT ["/posture"]

# The default image.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="posture" \
      org.opencontainers.image.description="Container-security posture scanner for Kubernetes: manifests and live clusters, Pod Security, CIS Benchmark" \
      org.opencontainers.image.source="https://github.com/posture-dev/posture" \
      org.opencontainers.image.url="https://github.com/posture-dev/posture" \
      org.opencontainers.image.documentation="https://github.com/posture-dev/posture/blob/main/docs/ci.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder /posture /posture
# Manifests are mounted here (`-v "$PWD:/src"`), and pre-commit's docker_image hooks mount the
# repository at /src and run there too, so relative paths in findings match the repository.
WORKDIR /src
# Numeric, so that Kubernetes can verify runAsNonRoot without a runAsUser in the pod spec.
USER 65532:65532
ENTRYPOINT ["/posture"]
