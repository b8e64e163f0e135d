#!/usr/bin/env bash
# The benchmark's one command: bench/run.sh SCENARIO [--option=value ...] | jmh [JMH args] | --help
# Builds the broker jar and this module when needed, raises the open-files limit, then runs the
# load generator (which starts the broker itself) or JMH. See BENCHMARKS.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

find_java >/dev/null 2>&1 || find_java

# 10,000 sessions need 10,000 sockets in the broker and as many in the generator (the broker is
# its child and inherits the limit). Raise the soft limit to the hard one, higher when root may.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

mvn_flags=(-q -B)
[[ "${BENCH_OFFLINE:-1}" == "1" ]] && mvn_flags+=(-o)

# The broker artifact the bench module depends on, and the jar the generator starts.
jar=target/vault-broker.jar
installed="${HOME}/.m2/repository/io/vaultbroker/vault-broker/0.1.0/vault-broker-0.1.0.jar"
if [[ ! -f "$jar" || ! -d target/libs || ! -f "$installed" ]] \
   || [[ -n "$(find pom.xml src db/migrations -newer "$jar" -print -quit 2>/dev/null)" ]]; then
  note "Building and installing the broker (mvn install -DskipTests)"
  mvn "${mvn_flags[@]}" install -DskipTests || mvn -q -B install -DskipTests
fi
if [[ ! -f bench/target/classpath.txt ]] \
   || [[ -n "$(find bench/pom.xml bench/src "$installed" -newer bench/target/classpath.txt -print -quit 2>/dev/null)" ]]; then
  note "Building bench/"
  mvn "${mvn_flags[@]}" -f bench/pom.xml package || mvn -q -B -f bench/pom.xml package
fi
cp="bench/target/classes:$(cat bench/target/classpath.txt)"

ensure_postgres

case "${1:-}" in
  jmh)
    shift
    # Defaults keep a run short: 1 fork, 2 warm-up and 3 measured iterations of 1 s each.
    if [[ $# -eq 0 ]]; then set -- -f 1 -wi 2 -w 1s -i 3 -r 1s; fi
    exec java -cp "$cp" org.openjdk.jmh.Main "$@"
    ;;
  "" | -h | --help)
    exec java -cp "$cp" io.vaultbroker.bench.LoadGenerator --help
    ;;
esac
note "open files limit: $(ulimit -n)"
exec java ${BENCH_JAVA_OPTS:--Xmx2g} -cp "$cp" io.vaultbroker.bench.LoadGenerator "$@" \
  --pg-host="${PGHOST:-127.0.0.1}" --pg-port="${PGPORT:-5432}" --pg-user="${PGUSER:-postgres}" \
  --pg-password="${PGPASSWORD:-}"
