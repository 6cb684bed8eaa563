#!/bin/sh
# Creates or upgrades Temporal's two PostgreSQL databases (the store and SQL visibility) to the
# schema of the admin-tools image's Temporal version. docker-compose.yml runs it once per `up`,
# in temporalio/admin-tools, before the server starts. Idempotent: on an existing database
# `update-schema` applies only the versions not yet applied, so bumping TEMPORAL_VERSION (server
# and admin-tools together) upgrades the schema on the next `up`.
#
# Env: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool).
set -eu
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=$SCHEMA_ROOT/${pair#*:}/versioned
  # Fails when the database exists; a real connection problem fails update-schema below.
  sql --db "$db" create 2>/dev/null || echo "database $db exists"
  if ! sql --db "$db" update-schema -d "$dir"; then
    echo "database $db has no schema yet: setting it up"
    sql --db "$db" setup-schema -v 0.0
    sql --db "$db" update-schema -d "$dir"
  fi
done
echo 'Temporal schema ready'
