#!/bin/sh
# Start one Blabber app replica: check the configuration, migrate, serve.
#
# Used as the container's entrypoint and runnable natively (tests/deploy run
# it against a scratch database). It serves the frontend that was built into
# the image (.web/build/client) exactly like tests/support/appserver.py does,
# so the container needs no package registry at start.
#
# Environment (besides what blabber/settings.py reads, see .env.example):
#   WORKERS         Uvicorn worker processes (default 2; ~1 per core)
#   BIND_HOST       listen address (default 127.0.0.1: run natively, e.g. by
#                   `make run` with the development secret, only this machine
#                   can connect; the Dockerfile sets 0.0.0.0)
#   BIND_PORT       listen port (default 8000; deploy/upstream.conf expects it)
#   PYTHON          interpreter (default: python on PATH)
#   SKIP_MIGRATIONS=1  do not run migrations (e.g. when a release job does)
set -eu

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"

# Fail before touching the database when production settings are unsafe; the
# app refuses too (blabber/blabber.py), this just says so earlier and once.
"$PYTHON" - <<'PY'
import sys

from blabber.settings import get_settings

problems = get_settings().production_problems()
if problems:
    sys.exit("refusing to start in production: " + "; ".join(problems))
PY

if [ "${SKIP_MIGRATIONS:-0}" != "1" ]; then
  echo "entrypoint: applying migrations" >&2
  "$PYTHON" deploy/migrate.py
fi

export REFLEX_ENV_MODE=prod
export __REFLEX_MOUNT_FRONTEND_COMPILED_APP=true
export __REFLEX_SKIP_COMPILE=true
export REFLEX_TELEMETRY_ENABLED="${REFLEX_TELEMETRY_ENABLED:-false}"
export REFLEX_CHECK_LATEST_VERSION="${REFLEX_CHECK_LATEST_VERSION:-false}"

# Uvicorn, not Granian (Reflex's default): measured with bench/memprobe.py, a
# connected websocket costs ~63 KiB under Uvicorn + websockets against ~193 KiB
# under Granian 2.8; latency is within the noise except in the largest rooms
# (bench/RESULTS.md). The supervisor
# restarts a worker that dies (tests/reliability/test_worker_kill.py).
#   --no-proxy-headers  the app alone decides whom to believe about a client's
#                       address (BLABBER_TRUSTED_PROXIES); Uvicorn would
#                       otherwise trust X-Forwarded-For from 127.0.0.1.
#   --ws-per-message-deflate false  chat frames are small; compression would
#                       cost a zlib context per connection.
# Any other Uvicorn option can be set as UVICORN_<OPTION> in the environment.
echo "entrypoint: starting uvicorn on ${BIND_HOST:-127.0.0.1}:${BIND_PORT:-8000} with ${WORKERS:-2} workers" >&2
exec "$PYTHON" -m uvicorn --factory \
  --host "${BIND_HOST:-127.0.0.1}" --port "${BIND_PORT:-8000}" \
  --workers "${WORKERS:-2}" \
  --loop uvloop --http httptools --ws "${UVICORN_WS:-websockets-sansio}" \
  --ws-per-message-deflate false \
  --no-proxy-headers --no-server-header --no-access-log \
  --lifespan on --timeout-graceful-shutdown 10 \
  blabber.blabber:app
