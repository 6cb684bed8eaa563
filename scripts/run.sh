#!/usr/bin/env bash
# run.sh CMD [ARGS…]: provisions (quietly when all is installed), then runs CMD with the project's
# tools first on PATH: .tools/node/bin (Node 24), .tools/bin (temporal, versitygw), node_modules/.bin.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -eq 0 ]; then
  echo "usage: scripts/run.sh COMMAND [ARGS...]" >&2
  exit 2
fi
bash "$ROOT/scripts/provision.sh"
TOOLS=${RDD_TOOLS_DIR:-$ROOT/.tools}
TOOLS=$(cd "$TOOLS" && pwd)
export PATH="$TOOLS/node/bin:$TOOLS/bin:$ROOT/node_modules/.bin:$PATH"
exec "$@"
