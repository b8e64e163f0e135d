#!/usr/bin/env bash
# Simulates vault activity through the example schema, so its triggers write vault_events.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/simulate.sh [--users N] [--rate R] [--duration SECONDS] [--db NAME] [--owner PUBKEY ...]

Runs random vault activity for N users at about R actions per second for SECONDS:
deposits and withdrawals (vault_transactions confirmed + vaults balance), position opens
(collateral locks) and closes (unlocks), through db/example's tables, so its triggers write
balance_update, transaction_confirmed, collateral_locked and collateral_unlocked rows. Once a
second it also writes a tvl_update row ({"tvl": <sum of balances>, "vaults": <count>}) from
db/example/03_tvl_query.sql's query. Applies db/example/01 and 02 when the vaults table is missing.

  --users N        users to simulate (default 5); their pubkeys are printed at start
  --owner PUBKEY   simulate this user (repeatable; instead of random ones)
  --rate R         actions per second (default 5; each writes one or two rows)
  --duration S     seconds to run (default 60)
  --db NAME        database (default: PGDATABASE, else vault_broker); vault_events must exist
                   (start the broker once, or apply db/migrations)

Environment: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE, JAVA_HOME, VAULT_BROKER_JAR (random
pubkeys come from the CLI in target/vault-broker.jar).
Watch it: scripts/token.sh --role admin ops, then the CLI (docs/operations.md) or the dashboard.
USAGE
}

users=5 rate=5 duration=60 db="${PGDATABASE:-vault_broker}"
owners=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --users | --rate | --duration | --db | --owner)
      [[ $# -ge 2 ]] || { printf '%s needs a value\n' "$1" >&2; exit 2; }
      case "$1" in
        --users) users="$2" ;; --rate) rate="$2" ;; --duration) duration="$2" ;; --db) db="$2" ;;
        --owner) owners+=("$2") ;;
      esac
      shift 2 ;;
    *) printf 'unknown argument: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in users rate duration; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { printf -- '--%s must be a positive integer\n' "$v" >&2; exit 2; }
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
command -v psql >/dev/null 2>&1 || die "psql not found: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)"

present="$(pg_psql -d "$db" -qtA -c "SELECT to_regclass('vault_events') IS NOT NULL, to_regclass('vaults') IS NOT NULL")" \
  || die "cannot reach database $db at $(pg_host):$(pg_port)"
[[ "${present%%|*}" == "t" ]] || die "vault_events does not exist in $db: start the broker once (it applies db/migrations) or apply them with psql"
if [[ "${present##*|}" != "t" ]]; then
  note "simulate: applying db/example/01_vault_schema.sql and 02_vault_triggers.sql to $db"
  PGOPTIONS="-c client_min_messages=warning" pg_psql -d "$db" -q -f db/example/01_vault_schema.sql -f db/example/02_vault_triggers.sql >/dev/null
fi

if [[ ${#owners[@]} -eq 0 ]]; then
  find_java 2>/dev/null
  mapfile -t owners < <(vault_broker_cli random-pubkey --count "$users")
fi
note "simulate: ${#owners[@]} users at $rate actions/s for ${duration}s on $db:"
printf '  %s\n' "${owners[@]}" >&2

owner_array="ARRAY[$(printf "'%s'," "${owners[@]}" | sed 's/,$//')]"
pause="$(awk -v r="$rate" 'BEGIN { printf "%.4f", 1 / r }')"
{
  cat <<'SQL'
\set ON_ERROR_STOP 1
-- One random action for one random user, in its own transaction (psql autocommit).
CREATE FUNCTION pg_temp.sim_step(owners text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  o text := owners[1 + floor(random() * array_length(owners, 1))::int];
  amount numeric := (1 + floor(random() * 100))::numeric * 1000000;
  v record;
  pos text;
  tx uuid;
  action int := floor(random() * 4)::int;
BEGIN
  INSERT INTO vaults (owner) VALUES (o) ON CONFLICT (owner) DO NOTHING;
  SELECT total_balance, locked_balance INTO v FROM vaults WHERE owner = o FOR UPDATE;
  IF action = 1 AND v.total_balance - v.locked_balance < amount THEN action := 0; END IF;
  IF action = 2 AND v.total_balance - v.locked_balance < amount THEN action := 0; END IF;
  IF action = 3 THEN
    SELECT id INTO pos FROM positions WHERE owner = o AND status = 'open' ORDER BY opened_at LIMIT 1;
    IF pos IS NULL THEN action := 0; END IF;
  END IF;
  IF action IN (0, 1) THEN   -- deposit / withdraw, confirmed on-chain
    INSERT INTO vault_transactions (owner, transaction_type, amount, signature)
      VALUES (o, CASE action WHEN 0 THEN 'deposit' ELSE 'withdraw' END, amount, md5(random()::text))
      RETURNING id INTO tx;
    UPDATE vaults SET total_balance = total_balance + CASE action WHEN 0 THEN amount ELSE -amount END,
                      updated_at = now() WHERE owner = o;
    UPDATE vault_transactions SET status = 'confirmed', confirmed_at = now() WHERE id = tx;
  ELSIF action = 2 THEN      -- open a position: locks collateral
    INSERT INTO positions (id, owner, collateral) VALUES ('pos_' || substr(md5(random()::text), 1, 10), o, amount);
  ELSE                       -- close a position: unlocks it
    UPDATE positions SET status = 'closed', closed_at = now() WHERE id = pos;
  END IF;
END
$$;
SQL
  steps=$((rate * duration))
  for ((i = 1; i <= steps; i++)); do
    printf 'SELECT pg_temp.sim_step(%s);\n' "$owner_array"
    if ((i % rate == 0)); then
      printf '%s\n' "INSERT INTO vault_events (event_type, owner, payload) SELECT 'tvl_update', NULL, jsonb_build_object('tvl', vault_json_amount(coalesce(sum(total_balance), 0)), 'vaults', count(*)) FROM vaults;"
    fi
    printf 'SELECT pg_sleep(%s);\n' "$pause"
  done
} | timeout "$((duration * 2 + 30))" psql -X -q -o /dev/null -h "$(pg_host)" -p "$(pg_port)" -U "$(pg_user)" -d "$db" \
  || die "simulate: psql failed (see above)"
note "simulate: done"
