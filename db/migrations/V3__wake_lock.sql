-- vault-broker schema, version 3: a wake-up test producers can always run, and that is always live.
--
-- V2 asked a table (vault_broker_feeds) whether a feed was asleep. That broke producers that
-- worked with V1: a role granted only INSERT on vault_events could not read the table, a
-- producer with another search_path did not find it, and a REPEATABLE READ producer read it
-- through a snapshot older than the flag, so it never woke the feed.
--
-- Now a sleeping feed holds vault_broker_wake in SHARE mode (see feed/Sleeper.java), and the
-- trigger notifies exactly when it cannot take that table in ROW EXCLUSIVE mode at once. The lock
-- manager answers live, whatever the isolation level; sleeping feeds share the lock, so any number
-- of instances can sleep. A producer that took the lock (and so sent no NOTIFY) keeps it until it
-- ends, which is how a feed knows, once its SHARE lock is granted, that every such producer has
-- ended; while a feed waits for it, producers already notify (their request conflicts with the
-- queued one). With no feed asleep, ROW EXCLUSIVE takes PostgreSQL's fast path: measured here
-- (4 clients, no fsync, a lock-holder read 500 times a second) it costs producers about as much as
-- no trigger, where trying 16 advisory locks cost about a fifth of their throughput.
--
-- The function is SECURITY DEFINER with a fixed search_path and names the table with its schema,
-- so no producer setting or privilege changes what it does.
--
-- Safe on a running system: CREATE OR REPLACE swaps the function atomically, and
-- vault_broker_feeds stays (unused) for instances of the previous version still running during a
-- rolling upgrade; while both versions run, the old ones are woken by their fallback poll only.
-- Two-phase-commit producers cannot PREPARE a transaction that ran NOTIFY: run their brokers
-- with feed.wake: poll, then no feed sleeps and the trigger never notifies.

CREATE TABLE IF NOT EXISTS vault_broker_wake ();

DO $migration$
BEGIN
  EXECUTE format($function$
    CREATE OR REPLACE FUNCTION %1$I.vault_events_notify() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
    BEGIN
      BEGIN
        LOCK TABLE %1$I.vault_broker_wake IN ROW EXCLUSIVE MODE NOWAIT;
      EXCEPTION WHEN lock_not_available THEN
        PERFORM pg_notify('vault_events', '');
      END;
      RETURN NULL;
    END
    $body$
  $function$, current_schema());
END
$migration$;
