#!/usr/bin/env bash
# CI: starts the built broker on a free port with a fresh secret, runs scripts/smoke.sh, stops it.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/ci-smoke.sh [--help]

Builds nothing: needs target/vault-broker.jar (mvn -q -DskipTests package, or after mvn test/package).
  1. finds a JDK 21+, makes sure PostgreSQL answers and the database exists
     (VAULT_BROKER_SMOKE_DB, default vault_broker_smoke)
  2. starts java -jar target/vault-broker.jar in the background on a free port (SERVER_PORT=0,
     127.0.0.1) with a freshly generated AUTH_JWT_SECRET
  3. waits (up to 60 s) for /observe/health/ready to answer 200
  4. runs scripts/smoke.sh against it
  5. stops the broker (TERM, then KILL after 15 s); its log is printed when anything failed
Exit code: smoke.sh's (0 passed), or 1 when the broker did not start.
Environment: PGHOST PGPORT PGUSER PGPASSWORD, VAULT_BROKER_SMOKE_DB, JAVA_HOME.
USAGE
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) printf 'unknown argument: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
find_java
ensure_postgres
db="${VAULT_BROKER_SMOKE_DB:-vault_broker_smoke}"
ensure_database "$db"
jar="$(vault_broker_jar)"
command -v curl >/dev/null 2>&1 || die "curl not found (Debian: apt-get install curl)"

host="$(pg_host)"
[[ "$host" == /* ]] && host=127.0.0.1
secret="$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 48)"
log="$(mktemp)"
pid=""
status=1
stop_broker() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { note "ci-smoke: broker did not stop within 15 s; killing it"; kill -9 "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
  fi
  if [[ "$status" -ne 0 ]]; then
    note "ci-smoke: broker log:"
    cat "$log" >&2
  fi
  rm -f "$log"
}
trap stop_broker EXIT

AUTH_JWT_SECRET="$secret" DB_CONNECTION_URL="jdbc:postgresql://$host:$(pg_port)/$db" \
  DB_CONNECTION_USERNAME="${PGUSER:-postgres}" DB_CONNECTION_PASSWORD="${PGPASSWORD:-}" \
  SERVER_PORT=0 SERVER_HOST=127.0.0.1 java -jar "$jar" >"$log" 2>&1 &
pid=$!

port=""
for _ in $(seq 1 600); do
  kill -0 "$pid" 2>/dev/null || die "ci-smoke: the broker exited during start-up"
  port="$(sed -n 's|.*listening on ws://localhost:\([0-9]*\)/stomp.*|\1|p' "$log" | head -n 1)"
  if [[ -n "$port" ]] && curl -sf -o /dev/null "http://127.0.0.1:$port/observe/health/ready"; then
    break
  fi
  port=""
  sleep 0.1
done
[[ -n "$port" ]] || die "ci-smoke: the broker was not ready within 60 s"
note "ci-smoke: broker ready on port $port"

set +e
PGDATABASE="$db" AUTH_JWT_SECRET="$secret" scripts/smoke.sh --db "$db" "ws://127.0.0.1:$port"
status=$?
set -e
exit "$status"
