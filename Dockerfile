FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN useradd --create-home --uid 10001 newsbot

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir .

COPY config.yaml ./
COPY examples ./examples
RUN mkdir -p /app/data && chown newsbot /app/data
USER newsbot
VOLUME ["/app/data"]

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run", "--config", "config.yaml"]
