#!/usr/bin/env bash
# Runs the project's Node.js (>= 24, installed into .tools/ by ensure-node.sh when the system's
# is older): `npm run …` scripts go through it, so they work as typed whatever `node` is first
# on the PATH (Debian's Node 20 cannot run TypeScript: ERR_UNKNOWN_FILE_EXTENSION).
set -euo pipefail
nodebin=$("$(dirname "$0")/ensure-node.sh")
export PATH="$nodebin:$PATH"
exec "$nodebin/node" "$@"
