#!/bin/sh
# Creates the namespace the workers use and registers the project's custom search attributes on
# it, through the operator API with the `temporal` CLI. docker-compose.yml runs it once per `up`
# (temporalio/admin-tools), after the server is healthy and before the worker and `rdd serve`
# start; test/e2e/deployment.test.ts runs it against the dev server. Idempotent: an existing
# namespace is kept, attributes that exist with the same type are left as they are.
#
# Env: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE (default `default`), NAMESPACE_RETENTION
# (default 7d), SEARCH_ATTRIBUTES: space-separated Name=Type pairs, the set of
# src/shared/search-attributes.ts (a test holds them equal).
set -eu
: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS is required}"
: "${SEARCH_ATTRIBUTES:?SEARCH_ATTRIBUTES is required (Name=Type ...)}"
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${NAMESPACE_RETENTION:-7d}

# retry N COMMAND...: runs COMMAND until it succeeds, at most N times, 2 s apart.
retry() {
  attempts=$1
  shift
  n=1
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then
      echo "gave up after $attempts attempts: $*" >&2
      return 1
    fi
    n=$((n + 1))
    sleep 2
  done
}

echo "waiting for Temporal at $TEMPORAL_ADDRESS"
retry 60 temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

set --
for pair in $SEARCH_ATTRIBUTES; do
  set -- "$@" --name "${pair%%=*}" --type "${pair#*=}"
done
# A namespace just created reaches every frontend's cache within seconds: retry until it has.
retry 15 temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" "$@"
echo "namespace $NAMESPACE ready with search attributes: $SEARCH_ATTRIBUTES"
