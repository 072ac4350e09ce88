# Practice Bot: one image, run as many replicas as you like against one PostgreSQL.
# Build: docker build -t practice-bot .   Run: see compose.yml (or the README's "Deploying").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY schedules ./schedules
RUN pip install . && rm -rf /src

# Never run as root; the home directory is the only place it may write
# (the SQLite file of a quick `docker run` try-out; production uses PostgreSQL).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin practicebot
USER practicebot
WORKDIR /home/practicebot

# A container must listen on every interface, not just its own loopback.
ENV PRACTICE_BOT_HOST=0.0.0.0 \
    PRACTICE_BOT_PORT=3000
EXPOSE 3000

# /healthz answers while the process serves; /readyz also checks the database schema.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

CMD ["practice-bot", "run"]
