#!/usr/bin/env bash
# Mints a development JWT for vault-broker.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/token.sh [--secret SECRET] [--role ROLE ...] [--ttl PT1H] PUBKEY

Prints an HS256 JWT with sub=PUBKEY, the given roles (e.g. --role admin) and exp=now+ttl,
signed with SECRET, the broker's auth.jwt.secret (at least 32 bytes).

  --secret SECRET   default: the environment variable AUTH_JWT_SECRET
  --role ROLE       repeatable; "admin" may read every user's destinations and /admin/tvl
  --ttl DURATION    ISO-8601 (PT1H, the default) or 30s, 15m, 2h

Examples:
  AUTH_JWT_SECRET=... scripts/token.sh HjxQC5jmM8JQrKmVLz29fvaVU428BQ3NzM7a3uQECt9m
  scripts/token.sh --secret "$SECRET" --role admin ops

Needs target/vault-broker.jar (mvn -q -DskipTests package) and a JDK 21+.
USAGE
}

args=()
sub=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --secret | --role | --ttl)
      [[ $# -ge 2 ]] || { printf '%s needs a value\n' "$1" >&2; exit 2; }
      args+=("$1" "$2"); shift 2 ;;
    -*) printf 'unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    *)
      [[ -z "$sub" ]] || { printf 'only one PUBKEY, got %s and %s\n' "$sub" "$1" >&2; exit 2; }
      sub="$1"; shift ;;
  esac
done
[[ -n "$sub" ]] || { usage >&2; exit 2; }

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
find_java 2>/dev/null
vault_broker_cli mint-token --sub "$sub" "${args[@]+"${args[@]}"}"
