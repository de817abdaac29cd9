# syntax=docker/dockerfile:1
# Build stage: gcc for the matching package, which `pip wheel` compiles with mypyc (setup.py), and a wheel
# of every dependency at the version in requirements.lock (deploy/image.sh: CI runs the same script).
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE requirements.lock ./
COPY deploy/image.sh ./deploy/
COPY bot ./bot
COPY handlers ./handlers
RUN sh deploy/image.sh wheels /src /wheels

# Runtime: no compiler, no dev dependencies, a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
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
CMD ["run", "config.yaml"]
