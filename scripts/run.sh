#!/usr/bin/env bash
# Runs vault-broker locally with the dev profile (demo tokens printed at start).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/run.sh [--help]

Runs vault-broker on http://localhost:8080 with the dev profile, which prints demo tokens.

  1. finds a JDK 21 or newer (JAVA_HOME if recent enough, else the newest under /usr/lib/jvm, ...)
  2. makes sure PostgreSQL answers (starts the local cluster when run as root) and that the
     database exists
  3. builds target/vault-broker.jar when it is missing or older than pom.xml, src/ or db/migrations
  4. runs: java -Dhelidon.config.profile=dev -jar target/vault-broker.jar

Environment:
  VAULT_BROKER_DB     database name (default vault_broker)
  DB_CONNECTION_URL   JDBC URL (default jdbc:postgresql://127.0.0.1:5432/$VAULT_BROKER_DB);
                      when you set it, step 2 is skipped: that database is yours to run
  PGHOST PGPORT PGUSER PGPASSWORD
                      where step 2 looks (default 127.0.0.1:5432, user postgres); PGUSER and
                      PGPASSWORD also become DB_CONNECTION_USERNAME/PASSWORD unless those are set
  JAVA_HOME           a JDK 21+ to use
  JAVA_OPTS           extra JVM options, split on spaces
Any configuration key can be overridden the same way (feed.max-gap-wait -> FEED_MAX_GAP_WAIT).
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) printf 'unknown argument: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
esac

# Work from the repository root, wherever we were started from.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

find_java

db="${VAULT_BROKER_DB:-vault_broker}"
if [[ -z "${DB_CONNECTION_URL:-}" ]]; then
  ensure_postgres
  ensure_database "$db"
  host="${PGHOST:-127.0.0.1}"
  [[ "$host" == /* ]] && host=127.0.0.1   # a socket directory is no JDBC host
  export DB_CONNECTION_URL="jdbc:postgresql://$host:${PGPORT:-5432}/$db"
fi
[[ -n "${PGUSER:-}" && -z "${DB_CONNECTION_USERNAME:-}" ]] && export DB_CONNECTION_USERNAME="$PGUSER"
[[ -n "${PGPASSWORD:-}" && -z "${DB_CONNECTION_PASSWORD:-}" ]] && export DB_CONNECTION_PASSWORD="$PGPASSWORD"

jar=target/vault-broker.jar
if [[ ! -f "$jar" || ! -d target/libs ]] \
   || [[ -n "$(find pom.xml src db/migrations -newer "$jar" -print -quit 2>/dev/null)" ]]; then
  note "Building $jar"
  mvn -q -B -DskipTests package
fi

read -r -a java_opts <<<"${JAVA_OPTS:-}"
# Every client connection takes a file descriptor: run with the hard open-files limit, which the
# broker reads at start to size its connection budget (limits.tcp-connections).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || note "could not raise the open-files limit above $(ulimit -n)"
note "Starting vault-broker against $DB_CONNECTION_URL"
# AppCDS: the first start writes a class-data archive beside the jar, later starts map it and
# are ready about a third sooner; the JVM rebuilds it by itself when the jar changes.
# ExitOnOutOfMemoryError: a JVM that ran out of memory once is not to be trusted; exit, be restarted.
exec java -XX:+ExitOnOutOfMemoryError -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=target/vault-broker.jsa -Xlog:cds=off -Xlog:cds+dynamic=off \
  "${java_opts[@]+"${java_opts[@]}"}" -Dhelidon.config.profile=dev -jar "$jar"
