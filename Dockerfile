# Build stage: a C compiler for the matching package, which `pip wheel` compiles with mypyc (setup.py).
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN useradd --create-home --uid 10001 newsbot

COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl && rm -rf /wheels

COPY config.yaml ./
COPY examples ./examples
RUN mkdir -p /app/data && chown newsbot /app/data
USER newsbot
VOLUME ["/app/data"]

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run", "--config", "config.yaml"]
