# The mlbot webhook bot: `mlbot serve` behind port 8000.
# Only the bot's own dependencies are installed, and psycopg for PostgreSQL
# (no `ml` extra: the webhook path never imports mlflow, evidently, dvc,
# scikit-learn or pandas).
#
#   docker build -t mlbot .
#   docker run -p 8000:8000 -v mlbot-data:/data \
#     -e MLBOT_WEBHOOK_SECRET=... -e MLBOT_APP_ID=... -e MLBOT_PRIVATE_KEY_PATH=/run/secrets/app.pem \
#     mlbot

FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir build==1.2.2
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY policies ./policies
RUN python -m build --wheel --outdir /dist

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MLBOT_DATABASE=/data/queue.sqlite3
COPY --from=build /dist/*.whl /tmp/
# The postgres extra (psycopg): replicas share MLBOT_DATABASE=postgresql://...
RUN pip install --no-cache-dir "$(ls /tmp/*.whl)[postgres]" && rm /tmp/*.whl \
 && useradd --system --uid 10001 --home-dir /data --create-home mlbot
USER mlbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Exec form: SIGTERM reaches uvicorn, which lets running jobs finish.
CMD ["mlbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
