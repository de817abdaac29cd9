# syntax=docker/dockerfile:1
# The Python base of both stages. To pin it for builds a month apart, give its digest:
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11-slim

# Build stage: gcc for the matching package, which `pip wheel` compiles with mypyc (setup.py), and a wheel
# of every dependency at the version in requirements.lock (deploy/image.sh: CI runs the same script).
FROM ${PYTHON_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE requirements.lock ./
COPY deploy/image.sh ./deploy/
COPY bot ./bot
COPY handlers ./handlers
RUN sh deploy/image.sh wheels /src /wheels

# Runtime: no compiler, no dev dependencies, a non-root user.
FROM ${PYTHON_IMAGE}

# NEWSBOT_CONFIG is read by both the CMD and the HEALTHCHECK: set it to move the config elsewhere.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NEWSBOT_CONFIG=config.yaml
WORKDIR /app
RUN useradd --create-home --uid 10001 newsbot

RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    --mount=type=bind,from=build,source=/src/deploy/image.sh,target=/tmp/image.sh \
    sh /tmp/image.sh install /wheels

# deploy/config.yaml: the bundled sample feeds, the store on the volume, /healthz on 127.0.0.1:8080.
COPY deploy/config.yaml ./config.yaml
COPY examples ./examples
RUN mkdir -p /app/data && chown newsbot /app/data
USER newsbot
VOLUME ["/app/data"]

# Push intake, Slack HTTP mode and WebSub callbacks, once your config sets web.host: 0.0.0.0.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["newsbot", "health", "--timeout", "5"]

ENTRYPOINT ["newsbot"]
CMD ["run"]
