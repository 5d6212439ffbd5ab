#!/usr/bin/env bash
# Shared Hive metastore on the local PostgreSQL server (Debian): install the server and the JDBC
# driver when missing, start the cluster, create the role and the database. Idempotent.
# Credentials come from FRONTIER_PG_* (the same variables python/frontier/config.py reads);
# the defaults suit a laptop and bind nothing beyond loopback.
set -euo pipefail

PG_USER=${FRONTIER_PG_USER:-frontier}
PG_PASSWORD=${FRONTIER_PG_PASSWORD:-frontier-local}
PG_DATABASE=${FRONTIER_PG_DATABASE:-frontier_metastore}
PG_HOST=${FRONTIER_PG_HOST:-127.0.0.1}
PG_PORT=${FRONTIER_PG_PORT:-5432}
JDBC_JAR=${FRONTIER_PG_JDBC_JAR:-/usr/share/java/postgresql.jar}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
[ -f "$JDBC_JAR" ] || missing+=(libpostgresql-jdbc-java)
if [ ${#missing[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install ${missing[*]} (PostgreSQL server and its JDBC driver) and run again" >&2
        exit 1
    fi
    echo "installing ${missing[*]}"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
fi

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

version=$(ls /etc/postgresql | sort -V | tail -1)
if ! $SUDO pg_ctlcluster "$version" main status >/dev/null 2>&1; then
    $SUDO pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 30); do
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break
    sleep 1
done
pg_isready -h "$PG_HOST" -p "$PG_PORT"

if as_postgres psql -p "$PG_PORT" -tAc "select 1 from pg_roles where rolname = '$PG_USER'" | grep -q 1; then
    as_postgres psql -p "$PG_PORT" -q -c "alter role \"$PG_USER\" login createdb password '$PG_PASSWORD'"
else
    as_postgres psql -p "$PG_PORT" -q -c "create role \"$PG_USER\" login createdb password '$PG_PASSWORD'"
fi
if ! as_postgres psql -p "$PG_PORT" -tAc "select 1 from pg_database where datname = '$PG_DATABASE'" | grep -q 1; then
    as_postgres createdb -p "$PG_PORT" -O "$PG_USER" "$PG_DATABASE"
fi
echo "metastore database $PG_DATABASE on $PG_HOST:$PG_PORT for role $PG_USER; driver $JDBC_JAR"
echo "use it with: export FRONTIER_METASTORE=postgres"
