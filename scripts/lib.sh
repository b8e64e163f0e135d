# shellcheck shell=bash
# Helpers shared by scripts/run.sh, scripts/test.sh and .ci/run. Source it; do not run it.
# Safe under `set -euo pipefail`. Failures print a message to stderr and exit 1.
#
#   find_java              export JAVA_HOME and PATH for a JDK 21 or newer
#   ensure_postgres        make sure PostgreSQL answers at $PGHOST:$PGPORT (starts a local cluster when root)
#   ensure_database NAME   create database NAME when it does not exist
#   ensure_prepared_transactions
#                          allow two-phase commit (the feed.wake=poll test); restarts a local
#                          cluster only when max_prepared_transactions is 0
#
# PostgreSQL connection settings come from the usual libpq variables:
# PGHOST (default 127.0.0.1), PGPORT (default 5432), PGUSER (default postgres), PGPASSWORD.

VAULT_BROKER_MIN_JAVA=21

die() {
  printf '%s\n' "$*" >&2
  exit 1
}

note() {
  printf '%s\n' "$*" >&2
}

# Prints the feature-release number of a java binary ("17.0.15" -> 17, "1.8.0_402" -> 8),
# or nothing when it does not run.
java_major() {
  local java="$1" version major
  [[ -x "$java" ]] || return 0
  # First line looks like: openjdk version "25.0.1" 2025-10-21
  version="$("$java" -version 2>&1 | sed -n 's/^[^"]*"\([^"]*\)".*/\1/p' | head -n 1)" || return 0
  [[ -n "$version" ]] || return 0
  major="${version%%[.+-]*}"
  if [[ "$major" == "1" ]]; then
    major="${version#1.}"
    major="${major%%[._+-]*}"
  fi
  [[ "$major" =~ ^[0-9]+$ ]] && printf '%s\n' "$major"
  return 0
}

# A usable JDK home has bin/java of a recent enough release and bin/javac (Maven compiles).
jdk_major() {
  local home="$1"
  [[ -x "$home/bin/java" && -x "$home/bin/javac" ]] || return 0
  java_major "$home/bin/java"
}

find_java() {
  local home major best_home="" best_major=0 candidate

  # 1. An explicit JAVA_HOME wins when it is recent enough.
  if [[ -n "${JAVA_HOME:-}" ]]; then
    major="$(jdk_major "$JAVA_HOME")"
    if [[ -n "$major" && "$major" -ge "$VAULT_BROKER_MIN_JAVA" ]]; then
      best_home="$JAVA_HOME"
      best_major="$major"
    else
      note "JAVA_HOME=$JAVA_HOME is not a JDK $VAULT_BROKER_MIN_JAVA or newer; looking for another one"
    fi
  fi

  # 2. Otherwise the newest JDK in the usual install locations, then the one on PATH.
  if [[ -z "$best_home" ]]; then
    local -a candidates=()
    local pattern
    for pattern in /usr/lib/jvm/* /usr/java/* /usr/local/java/* /usr/local/*jdk* \
                   /opt/java/* /opt/*jdk* "${HOME:-/nonexistent}"/.sdkman/candidates/java/* \
                   "${HOME:-/nonexistent}"/.jdks/*; do
      [[ -d "$pattern" ]] && candidates+=("$pattern")
    done
    if command -v java >/dev/null 2>&1; then
      candidate="$(readlink -f "$(command -v java)")"
      candidates+=("${candidate%/bin/java}")
    fi
    for home in "${candidates[@]+"${candidates[@]}"}"; do
      major="$(jdk_major "$home")"
      if [[ -n "$major" && "$major" -ge "$VAULT_BROKER_MIN_JAVA" && "$major" -gt "$best_major" ]]; then
        best_home="$home"
        best_major="$major"
      fi
    done
  fi

  [[ -n "$best_home" ]] || die "vault-broker needs JDK $VAULT_BROKER_MIN_JAVA or newer; install one or set JAVA_HOME"

  JAVA_HOME="$(readlink -f "$best_home")"
  export JAVA_HOME
  PATH="$JAVA_HOME/bin:$PATH"
  export PATH
  note "Using JDK $best_major at $JAVA_HOME"
}

pg_host() { printf '%s\n' "${PGHOST:-127.0.0.1}"; }
pg_port() { printf '%s\n' "${PGPORT:-5432}"; }
pg_user() { printf '%s\n' "${PGUSER:-postgres}"; }

pg_ready() {
  pg_isready -q -h "$(pg_host)" -p "$(pg_port)" >/dev/null 2>&1
}

# Runs pg_ctlcluster ACTION (start, restart) on every local cluster; fails when none succeeded.
local_clusters() {
  local action="$1" version done=1
  for version in /etc/postgresql/*/; do
    version="$(basename "$version")"
    [[ -d "/etc/postgresql/$version/main" ]] || continue
    note "PostgreSQL cluster $version/main: $action"
    if pg_ctlcluster --skip-systemctl-redirect "$version" main "$action"; then
      done=0
    fi
  done
  return "$done"
}

ensure_postgres() {
  command -v pg_isready >/dev/null 2>&1 \
    || die "pg_isready not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)"
  pg_ready && return 0

  local host
  host="$(pg_host)"
  # Start a cluster only when it is this machine's and we are allowed to.
  case "$host" in
    127.0.0.1 | localhost | ::1 | /*) ;;
    *) die "PostgreSQL is not accepting connections at $host:$(pg_port); start it or set PGHOST/PGPORT" ;;
  esac
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ "$(id -u)" -ne 0 ]] || [[ ! -d /etc/postgresql ]]; then
    die "PostgreSQL is not accepting connections at $host:$(pg_port); start it (e.g. pg_ctlcluster <version> main start) or set PGHOST/PGPORT"
  fi

  local_clusters start \
    || die "PostgreSQL is not accepting connections at $host:$(pg_port) and no local cluster was started (see above); check PGHOST/PGPORT"

  local waited=0
  until pg_ready; do
    if [[ "$waited" -ge 30 ]]; then
      die "PostgreSQL did not accept connections at $host:$(pg_port) within 30 s"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  note "PostgreSQL is ready at $host:$(pg_port)"
}

# psql with the connection settings above, no ~/.psqlrc, stop at the first error.
pg_psql() {
  psql -X -v ON_ERROR_STOP=1 -h "$(pg_host)" -p "$(pg_port)" -U "$(pg_user)" "$@"
}

ensure_database() {
  local name="${1:?ensure_database needs a database name}" exists
  command -v psql >/dev/null 2>&1 \
    || die "psql not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)"
  # The name goes in as a psql variable (:'name' quotes it), never spliced into SQL.
  exists="$(printf '%s\n' "SELECT 1 FROM pg_database WHERE datname = :'name'" \
    | pg_psql -d postgres -tA -v name="$name")" \
    || die "cannot query PostgreSQL at $(pg_host):$(pg_port) as $(pg_user)"
  [[ "$exists" == "1" ]] && return 0

  note "Creating database $name"
  if ! createdb -h "$(pg_host)" -p "$(pg_port)" -U "$(pg_user)" -- "$name"; then
    # Another process may have created it meanwhile.
    exists="$(printf '%s\n' "SELECT 1 FROM pg_database WHERE datname = :'name'" \
      | pg_psql -d postgres -tA -v name="$name")" || true
    [[ "$exists" == "1" ]] || die "could not create database $name"
  fi
}

# The two-phase-commit producer test needs PREPARE TRANSACTION, off by default in PostgreSQL.
# Idempotent: does nothing unless max_prepared_transactions is 0. The setting needs a restart,
# so it is changed only on a local cluster this user may restart; elsewhere it says what to set.
ensure_prepared_transactions() {
  local current
  current="$(pg_psql -d postgres -tA -c 'SHOW max_prepared_transactions')" \
    || die "cannot query PostgreSQL at $(pg_host):$(pg_port) as $(pg_user)"
  [[ "$current" != "0" ]] && return 0

  case "$(pg_host)" in
    127.0.0.1 | localhost | ::1 | /*) ;;
    *) note "max_prepared_transactions is 0 at $(pg_host): set it to 16 and restart PostgreSQL, or the two-phase-commit test fails"
       return 0 ;;
  esac
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [[ "$(id -u)" -ne 0 ]] || [[ ! -d /etc/postgresql ]]; then
    note "max_prepared_transactions is 0: set it to 16 and restart PostgreSQL, or the two-phase-commit test fails"
    return 0
  fi
  pg_psql -d postgres -q -c 'ALTER SYSTEM SET max_prepared_transactions = 16' \
    || die "could not set max_prepared_transactions"
  local_clusters restart || die "could not restart PostgreSQL for max_prepared_transactions; restart it by hand"
  local waited=0
  until pg_ready; do
    if [[ "$waited" -ge 30 ]]; then
      die "PostgreSQL did not accept connections at $(pg_host):$(pg_port) within 30 s of the restart"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# The built jar, for the CLI (io.vaultbroker.cli.Cli). Dies with a hint when it is missing.
vault_broker_jar() {
  local root jar
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  jar="${VAULT_BROKER_JAR:-$root/target/vault-broker.jar}"
  [[ -f "$jar" ]] || die "$jar not found: build it first (mvn -q -DskipTests package) or set VAULT_BROKER_JAR"
  printf '%s\n' "$jar"
}

# Runs the CLI client with the given arguments.
vault_broker_cli() {
  local jar
  jar="$(vault_broker_jar)"
  java -cp "$jar" io.vaultbroker.cli.Cli "$@"
}
