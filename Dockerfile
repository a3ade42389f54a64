# ddi-bot serve, as one replica: run as many as needed against one PostgreSQL database and one
# shared data directory (compose.yaml). Not built in CI (no Docker daemon there).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml setup.py README.md constraints.txt ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
# gcc only while installing: capture analysis's record walk, decoding and tally are compiled
# (bot/capture/_walk.c, _decode.c, _tally.c), and the image keeps the built modules, not the
# compiler
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install -c constraints.txt . \
    && (cd / && python -c "import bot.capture._walk, bot.capture._decode, bot.capture._tally") \
    && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin ddibot \
    && mkdir -p /data && chown ddibot /data

USER ddibot
ENV DDI_BOT_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 3000
# /healthz: 200 when the database answers and Slack accepts the token
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=8).status != 200)"]
CMD ["ddi-bot", "serve", "--host", "0.0.0.0", "--port", "3000"]
