#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (Chromium for browser
# tests, nginx for the reverse-proxy test, docker-compose to validate the
# compose file) when they are missing and we are allowed to (root + apt).
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v docker-compose >/dev/null || need+=(docker-compose)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null; }
else
  echo "missing system packages: ${need[*]} (install them with your package manager);" \
       "the tests that need them will be skipped" >&2
fi
