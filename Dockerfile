# syntax=docker/dockerfile:1
# Blabber app image: Python backend + the production frontend, built here so
# the container needs no package registry when it starts.
#
#   docker compose build            (uses the build args set in docker-compose.yml)
#   docker build --build-arg REFLEX_API_URL=http://localhost:8080 -t blabber .
#
# REFLEX_API_URL is baked into the JS bundle as the websocket address. The
# hostname "localhost" is replaced by the page's hostname at runtime, the port
# is kept (and dropped on https), so build for the port the BROWSER uses: the
# proxy's published port (http://localhost for port 80, the default).

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:22-bookworm-slim

# Node (>= 22.22, what Reflex 0.10 asks for; Debian's is older) only to run npm.
FROM ${NODE_IMAGE} AS node

# ---- build: dependencies + frontend (Node/npm/bun live only in this stage) ----
FROM ${PYTHON_IMAGE} AS build
ARG BUN_VERSION=1.4.5
ARG REFLEX_API_URL=http://localhost
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    REFLEX_CHECK_LATEST_VERSION=false
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && npm --version
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt
# Bun where rxconfig.py looks for it (.tools), as `make setup` installs it.
RUN npm install --prefix .tools --no-audit --no-fund --loglevel=error "bun@${BUN_VERSION}"
COPY . .
RUN REFLEX_API_URL="${REFLEX_API_URL}" REFLEX_DEPLOY_URL="${REFLEX_API_URL}" \
    reflex export --frontend-only --no-zip --env prod \
 && test -f .web/build/client/index.html

# ---- runtime: no Node, no compilers, non-root ----
FROM ${PYTHON_IMAGE} AS runtime
# BIND_HOST: the entrypoint listens on 127.0.0.1 unless told (`make run` on a
# laptop); in the container nginx reaches it over the compose network.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    REFLEX_TELEMETRY_ENABLED=false \
    REFLEX_CHECK_LATEST_VERSION=false \
    REFLEX_WEB_WORKDIR=/app/.web \
    BIND_HOST=0.0.0.0 \
    WORKERS=2
RUN groupadd --system --gid 10001 blabber \
 && useradd --system --uid 10001 --gid blabber --home-dir /home/blabber --create-home blabber
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/rxconfig.py /app/alembic.ini /app/requirements.txt ./
COPY --from=build /app/alembic ./alembic
COPY --from=build /app/blabber ./blabber
COPY --from=build /app/deploy ./deploy
# Only the built site. Reflex writes small files (.web/backend/) at start, so
# .web belongs to the app user; the code stays root-owned and read-only to it.
RUN install -d -o blabber -g blabber /app/.web /app/data/uploads
COPY --from=build --chown=blabber:blabber /app/.web/build ./.web/build
RUN chmod 0755 deploy/entrypoint.sh
USER blabber
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
