-- vault-broker schema, version 3: a wake-up test producers can always run, and that is always live.
--
-- V2 asked a table (vault_broker_feeds) whether a feed was asleep. That broke producers that
-- worked with V1: a role granted only INSERT on vault_events could not read the table, a
-- producer with another search_path did not find it, and a REPEATABLE READ producer read it
-- through a snapshot older than the flag, so it never woke the feed.
--
-- Now a sleeping feed holds an exclusive advisory lock on its slot (0..15; see feed/Sleeper.java),
-- and the trigger notifies exactly when it cannot take one of those locks shared. The lock manager
-- answers live, whatever the isolation level. A producer that took the locks shared (so sent no
-- NOTIFY) keeps them until it ends, which is how a feed knows, once it holds its own lock, that
-- every such producer has ended. The function calls only pg_catalog functions that PUBLIC may
-- run; it is SECURITY DEFINER with a fixed search_path so no producer setting can change that.
--
-- Safe on a running system: CREATE OR REPLACE swaps the function atomically, and
-- vault_broker_feeds stays (unused) for instances of the previous version still running during a
-- rolling upgrade; while both versions run, the old ones are woken by their fallback poll only.
-- Two-phase-commit producers cannot PREPARE a transaction that ran NOTIFY: run their brokers
-- with feed.wake: poll, then no feed sleeps and the trigger never notifies.

CREATE OR REPLACE FUNCTION vault_events_notify() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  FOR slot IN 0..15 LOOP
    -- 1986163505 is "vbs1", the sleep locks' key.
    IF NOT pg_try_advisory_xact_lock_shared(1986163505, slot) THEN
      PERFORM pg_notify('vault_events', '');
      RETURN NULL;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
