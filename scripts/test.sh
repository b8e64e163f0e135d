#!/usr/bin/env bash
# Runs the test suite (unit and PostgreSQL integration tests) with Maven.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/test.sh [--help] [MAVEN ARGS...]

Runs `mvn -B test` after:
  1. finding a JDK 21 or newer (JAVA_HOME if recent enough, else the newest under /usr/lib/jvm, ...)
  2. making sure PostgreSQL answers (starts the local cluster when run as root)
  3. creating the test database vault_broker_test when missing; the integration tests use
     jdbc:postgresql://127.0.0.1:5432/vault_broker_test as user postgres
  4. allowing two-phase commit (max_prepared_transactions 16; restarts a local cluster only
     when it is 0)

Extra arguments go to Maven, e.g.
  scripts/test.sh -Dtest=StompDecoderTest
  scripts/test.sh -q -Dtest='Feed*' -Dsurefire.failIfNoSpecifiedTests=false

Environment: JAVA_HOME, PGHOST PGPORT PGUSER PGPASSWORD (where step 2 and 3 look; default
127.0.0.1:5432, user postgres).
USAGE
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
esac

# Work from the repository root, wherever we were started from.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

find_java
ensure_postgres
ensure_database vault_broker_test
ensure_prepared_transactions

exec mvn -B test "$@"
