# syntax=docker/dockerfile:1
# The OpenAI audit-log connector as a container image: docker build -t openai-audit-connector .
# (docs/deploy.md). Every RUN of the build stage is a `docker/steps.sh` call; tests/deploy/test_docker.py
# runs the same calls outside Docker and then runs `connector demo` from the result.
#
# Run it with a read-only root filesystem: only /var/lib/connector (checkpoint, dead-letter file, file
# sink output; a volume) must be writable.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---- build: a C compiler and pinned build tools, the pinned and hashed runtime dependencies, the
# project's wheel (its normalizer compiled with mypyc, setup.py)
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY docker/ docker/
RUN sh docker/steps.sh compiler \
 && sh docker/steps.sh tools /opt/build-tools \
 && sh docker/steps.sh deps /opt/build-tools /opt/connector
COPY pyproject.toml setup.py README.md ./
COPY connector/ connector/
RUN sh docker/steps.sh wheel /opt/build-tools /src /tmp/dist \
 && sh docker/steps.sh app /opt/build-tools /opt/connector /tmp/dist

# ---- runtime: the venv from the build stage, no build tools, no pip, a numeric non-root user
FROM ${PYTHON_IMAGE} AS runtime
ARG PYTHON_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="openai-audit-connector" \
      org.opencontainers.image.description="Forwards the OpenAI organization audit log to Kafka, Splunk HEC or a file (OCSF, ECS or raw), with crash-safe checkpoints." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/${PYTHON_IMAGE}"

RUN groupadd --system --gid 10001 connector \
 && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /var/lib/connector \
      --no-create-home --shell /usr/sbin/nologin connector \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/connector

COPY --from=build /opt/connector /opt/connector

ENV PATH=/opt/connector/bin:$PATH \
    HOME=/var/lib/connector \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONNECTOR_METRICS__HOST=0.0.0.0 \
    CONNECTOR_METRICS__PORT=9464 \
    CONNECTOR_CHECKPOINT__PATH=/var/lib/connector/checkpoint.db \
    CONNECTOR_DEAD_LETTER__PATH=/var/lib/connector/dead-letter.ndjson \
    CONNECTOR_SINK__PATH=/var/lib/connector/events.ndjson

WORKDIR /var/lib/connector
VOLUME ["/var/lib/connector"]
USER 10001:10001
EXPOSE 9464

# SIGTERM drains (finishes the batch in flight, waits for HEC acks, commits) and exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["connector", "healthcheck"]

ENTRYPOINT ["connector"]
CMD ["run"]
