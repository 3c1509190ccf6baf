# watcher, one image for both ways of running it:
#   one-shot, for cron / Kubernetes CronJob:  docker run ... watcher:latest run
#   long-running, with the built-in scheduler: docker run ... watcher:latest   (CMD schedule)
# Configuration: /config/sources.yaml (the default one is baked in; mount yours over it).
# State: the /data volume. Secrets: SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE (e.g. /run/secrets).
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin watcher \
    && mkdir -p /data /config \
    && chown watcher:watcher /data
COPY sources.yaml /config/sources.yaml

ENV WATCHER_CONFIG=/config/sources.yaml \
    WATCHER_STATE_DIR=/data
VOLUME ["/data"]
USER watcher
EXPOSE 8080

# For the long-running scheduler: unhealthy when no run finished lately or a source keeps
# failing. A one-shot `run` container exits before this matters.
HEALTHCHECK --interval=5m --timeout=30s --start-period=15m --retries=2 \
    CMD ["watcher", "status", "--health"]

ENTRYPOINT ["watcher"]
CMD ["schedule"]
