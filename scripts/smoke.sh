#!/usr/bin/env bash
# Smoke-tests a running vault-broker: subscribe, write events with psql, check each arrives.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/smoke.sh [--db NAME] [--secret SECRET] [--timeout SECONDS] URL

Checks a running broker end to end:
  1. makes a fresh random user (pubkey) and an admin token
  2. subscribes with the CLI client to /user/<pubkey>/balance, /user/<pubkey>/tx and /admin/tvl
  3. inserts a balance_update, a transaction_confirmed and a tvl_update into vault_events with psql
  4. checks that each arrives on its destination with its row id; exits 0 when all did,
     non-zero with a message saying which did not

URL       the broker, e.g. ws://localhost:8080 or ws://localhost:8080/stomp
--db NAME the broker's database (default: PGDATABASE, else vault_broker)
--secret  the broker's auth.jwt.secret, to mint the admin token (default: AUTH_JWT_SECRET);
          or give a ready token in ADMIN_TOKEN (a JWT with role admin)
--timeout seconds to wait for the events (default 30)

Environment: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE (where psql writes; default
127.0.0.1:5432, user postgres), ADMIN_TOKEN, AUTH_JWT_SECRET, JAVA_HOME, VAULT_BROKER_JAR.
Needs target/vault-broker.jar (mvn -q -DskipTests package), psql and a JDK 21+.
Exit codes: 0 all events arrived, 1 an event did not arrive or a step failed, 2 usage error.
USAGE
}

db="${PGDATABASE:-vault_broker}"
secret="${AUTH_JWT_SECRET:-}"
timeout=30
url=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --db | --secret | --timeout)
      [[ $# -ge 2 ]] || { printf '%s needs a value\n' "$1" >&2; exit 2; }
      case "$1" in --db) db="$2" ;; --secret) secret="$2" ;; --timeout) timeout="$2" ;; esac
      shift 2 ;;
    -*) printf 'unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    *) [[ -z "$url" ]] || { printf 'only one URL\n' >&2; exit 2; }; url="$1"; shift ;;
  esac
done
[[ -n "$url" ]] || { usage >&2; exit 2; }
[[ "$timeout" =~ ^[0-9]+$ ]] || { printf -- '--timeout must be whole seconds\n' >&2; exit 2; }
[[ "$url" == */stomp ]] || url="${url%/}/stomp"

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
find_java 2>/dev/null
command -v psql >/dev/null 2>&1 || die "psql not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)"

if [[ -n "${ADMIN_TOKEN:-}" ]]; then
  token="$ADMIN_TOKEN"
elif [[ -n "$secret" ]]; then
  token="$(vault_broker_cli mint-token --secret "$secret" --sub smoke-admin --role admin --ttl PT10M)" \
    || die "smoke: cannot mint a token (is the secret at least 32 bytes?)"
else
  die "smoke: give the broker's secret (--secret or AUTH_JWT_SECRET) or an admin token (ADMIN_TOKEN)"
fi
owner="$(vault_broker_cli random-pubkey)"

work="$(mktemp -d)"
cli_pid=""
cleanup() {
  if [[ -n "$cli_pid" ]] && kill -0 "$cli_pid" 2>/dev/null; then
    kill "$cli_pid" 2>/dev/null || true
    wait "$cli_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

: >"$work/out"
: >"$work/err"
note "smoke: subscribing at $url as admin, user $owner"
# The token goes through the environment, not the command line (ps shows command lines).
VAULT_BROKER_TOKEN="$token" java -cp "$(vault_broker_jar)" io.vaultbroker.cli.Cli \
  --url "$url" --subscribe "/user/$owner/balance" --subscribe "/user/$owner/tx" --subscribe /admin/tvl \
  --timeout "$((timeout + 30))s" >"$work/out" 2>"$work/err" &
cli_pid=$!

waited=0
until grep -q '^subscribed:' "$work/err"; do
  if ! kill -0 "$cli_pid" 2>/dev/null; then
    cat "$work/err" >&2
    die "smoke: FAILED: the CLI could not subscribe at $url (see above)"
  fi
  [[ "$waited" -lt $((timeout * 10)) ]] || die "smoke: FAILED: no subscription confirmed within ${timeout}s at $url"
  sleep 0.1
  waited=$((waited + 1))
done

# One transaction per event, as producers write them; the ids come back for the checks.
ids="$(pg_psql -d "$db" -qtA -v owner="$owner" <<'SQL'
INSERT INTO vault_events (event_type, owner, payload)
  VALUES ('balance_update', :'owner', jsonb_build_object('owner', :'owner', 'totalBalance', 1000000000,
          'lockedBalance', 200000000, 'availableBalance', 800000000)) RETURNING id;
INSERT INTO vault_events (event_type, owner, payload)
  VALUES ('transaction_confirmed', :'owner', jsonb_build_object('transactionId', 'smoke-' || :'owner',
          'transactionType', 'deposit', 'amount', 100000000, 'signature', 'smoke')) RETURNING id;
INSERT INTO vault_events (event_type, owner, payload)
  VALUES ('tvl_update', NULL, jsonb_build_object('tvl', 1000000000, 'vaults', 1)) RETURNING id;
SQL
)" || die "smoke: FAILED: cannot insert into vault_events of database $db at $(pg_host):$(pg_port)"
mapfile -t id_list <<<"$ids"
[[ ${#id_list[@]} -eq 3 ]] || die "smoke: FAILED: unexpected answer from psql: $ids"
balance_id="${id_list[0]}" tx_id="${id_list[1]}" tvl_id="${id_list[2]}"
note "smoke: inserted rows $balance_id (balance_update), $tx_id (transaction_confirmed), $tvl_id (tvl_update)"

check() {
  grep -q "\"destination\":\"$1\",\"messageId\":\"$2\",\"event\":\"$3\"" "$work/out"
}
expect=("/user/$owner/balance $balance_id balance_update" "/user/$owner/tx $tx_id transaction_confirmed"
        "/admin/tvl $tvl_id tvl_update")
deadline=$((SECONDS + timeout))
while :; do
  missing=()
  for e in "${expect[@]}"; do
    read -r dest id event <<<"$e"
    check "$dest" "$id" "$event" || missing+=("$event (row $id) on $dest")
  done
  [[ ${#missing[@]} -eq 0 ]] && break
  if [[ $SECONDS -ge $deadline ]] || ! kill -0 "$cli_pid" 2>/dev/null; then
    cat "$work/err" >&2
    for m in "${missing[@]}"; do note "smoke: FAILED: did not arrive within ${timeout}s: $m"; done
    exit 1
  fi
  sleep 0.1
done
for e in "${expect[@]}"; do
  read -r dest id event <<<"$e"
  note "smoke: ok  $event (row $id) on $dest"
done
note "smoke: PASSED against $url"
