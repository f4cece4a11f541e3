#!/bin/sh
# Container entry point: make sure a config exists (the example, on first start) and the database
# schema is current, then run the command (default: memeloop run).
set -eu
if [ ! -f "${MEMELOOP_CONFIG:-/data/config.toml}" ]; then
  memeloop init "$(dirname "${MEMELOOP_CONFIG:-/data/config.toml}")"
fi
memeloop db upgrade
exec "$@"
