#!/usr/bin/env bash
# Installs what `npm run test:cluster` needs beyond scripts/provision.sh, idempotently:
#   temporal-server and temporal-sql-tool $TEMPORAL_SERVER_VERSION, built from source with
#     `go install go.temporal.io/server/cmd/{server,tools/sql}` (GOTOOLCHAIN fetches the Go release
#     the server needs through the Go module proxy) into .tools/bin
#   the server's PostgreSQL schema (schema/postgresql/v12 of the same module) into
#     .tools/temporal-schema/$TEMPORAL_SERVER_VERSION
# and finds PostgreSQL's server programs (initdb, pg_ctl; Debian package postgresql). Writes what it
# found to .tools/cluster.env for test/helpers/temporal-cluster.ts. Prints one line per thing it
# installs and nothing when all is there; fails naming exactly what to install.
set -euo pipefail

TEMPORAL_SERVER_VERSION=1.32.2
GO_TOOLCHAIN=go1.26.10

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${RDD_TOOLS_DIR:-$ROOT/.tools}
mkdir -p "$TOOLS/bin" "$TOOLS/logs"
TOOLS=$(cd "$TOOLS" && pwd)
SERVER=$TOOLS/bin/temporal-server
SQL_TOOL=$TOOLS/bin/temporal-sql-tool
SCHEMA=$TOOLS/temporal-schema/$TEMPORAL_SERVER_VERSION
say() { printf 'cluster-tools: %s\n' "$*" >&2; }
fail() {
  printf 'cluster-tools: %s\n' "$1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    printf 'cluster-tools: last lines of %s:\n' "$2" >&2
    tail -n 20 "$2" | sed 's/^/    /' >&2
  fi
  exit 1
}

# PostgreSQL: RDD_PG_BIN, else the newest Debian /usr/lib/postgresql/<major>/bin, else PATH.
pg_bin=${RDD_PG_BIN:-}
if [ -z "$pg_bin" ]; then
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pg_bin=$dir; break; fi
  done
fi
if [ -z "$pg_bin" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
  pg_bin=$(dirname "$(command -v initdb)")
fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ] || [ ! -x "$pg_bin/postgres" ]; then
  fail "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found. Install PostgreSQL 12 or newer: Debian/Ubuntu \`sudo apt-get install postgresql\`, macOS \`brew install postgresql@16\`; or set RDD_PG_BIN to the directory that holds initdb and pg_ctl."
fi

installed_version() { "$SERVER" --version 2>/dev/null | awk '{print $NF}'; }
if [ ! -x "$SERVER" ] || [ ! -x "$SQL_TOOL" ] || [ "$(installed_version)" != "$TEMPORAL_SERVER_VERSION" ] ||
  [ ! -f "$SCHEMA/temporal/versioned/v1.0/manifest.json" ]; then
  go=
  for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$HOME/go/bin/go" /usr/lib/go/bin/go; do
    if [ -n "$g" ] && [ -x "$g" ]; then go=$g; break; fi
  done
  [ -n "$go" ] ||
    fail "Go was not found: the Temporal server is built from source with \`go install\`. Install Go 1.21 or newer (https://go.dev/dl, e.g. into /usr/local/go, or \`sudo apt-get install golang\`); it fetches $GO_TOOLCHAIN by itself through the Go module proxy."
  log=$TOOLS/logs/temporal-server-build.log
  gobin=$(mktemp -d "$TOOLS/.gobin.XXXXXX")
  trap 'rm -rf "$gobin"' EXIT
  say "building temporal-server and temporal-sql-tool $TEMPORAL_SERVER_VERSION with go install (minutes on a cold Go cache; log $log)"
  GOTOOLCHAIN=$GO_TOOLCHAIN GOBIN=$gobin "$go" install \
    "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION" >"$log" 2>&1 ||
    fail "go install of the Temporal server failed (it needs network access to the Go module proxy, or GOPROXY set to a mirror)" "$log"
  mv -f "$gobin/server" "$SERVER"
  mv -f "$gobin/sql" "$SQL_TOOL"
  modcache=$(GOTOOLCHAIN=$GO_TOOLCHAIN "$go" env GOMODCACHE)
  source_schema=$modcache/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION/schema/postgresql/v12
  [ -d "$source_schema" ] || fail "the server module has no schema at $source_schema"
  rm -rf "$SCHEMA"
  mkdir -p "$(dirname "$SCHEMA")"
  cp -R "$source_schema" "$SCHEMA"
  chmod -R u+w "$SCHEMA" # the module cache is read-only
  say "installed $SERVER, $SQL_TOOL and the PostgreSQL schema in $SCHEMA"
fi

cat >"$TOOLS/cluster.env.tmp" <<ENV
TEMPORAL_SERVER_VERSION=$TEMPORAL_SERVER_VERSION
TEMPORAL_SERVER=$SERVER
TEMPORAL_SQL_TOOL=$SQL_TOOL
TEMPORAL_SCHEMA_DIR=$SCHEMA
PG_BIN=$pg_bin
ENV
mv -f "$TOOLS/cluster.env.tmp" "$TOOLS/cluster.env"
