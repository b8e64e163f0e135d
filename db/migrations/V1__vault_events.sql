-- vault-broker schema, version 1.
-- Applied by the broker at start (db.migrate: true) under an advisory lock, or by a DBA with psql.
-- Every statement is idempotent so a half-applied run can simply be repeated.

-- The change table (DESIGN.md §3, contract). Producers insert the four data columns,
-- in the same transaction as the change they describe.
CREATE TABLE IF NOT EXISTS vault_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_type  text        NOT NULL,
  owner       text,
  payload     jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Snapshot and replay look up one destination's rows by owner in id order.
CREATE INDEX IF NOT EXISTS vault_events_owner_id ON vault_events (owner, id);
-- TVL rows have no owner to look them up by.
CREATE INDEX IF NOT EXISTS vault_events_tvl_id ON vault_events (id) WHERE event_type = 'tvl_update';
-- Retention deletes by age.
CREATE INDEX IF NOT EXISTS vault_events_created_at ON vault_events (created_at);

-- One notification per inserting statement, delivered at commit (and never for a rollback);
-- PostgreSQL folds identical notifications of one transaction into one. The payload is empty:
-- the notification only wakes the feed, the table is the truth.
CREATE OR REPLACE FUNCTION vault_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('vault_events', '');
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS vault_events_notify ON vault_events;
CREATE TRIGGER vault_events_notify
  AFTER INSERT ON vault_events
  FOR EACH STATEMENT EXECUTE FUNCTION vault_events_notify();

-- Wallet sign-in signatures already used, so each is accepted once across all instances.
CREATE TABLE IF NOT EXISTS vault_broker_signatures (
  signature     text        PRIMARY KEY,
  forget_after  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS vault_broker_signatures_forget ON vault_broker_signatures (forget_after);

-- Small key/value bookkeeping shared by instances (e.g. the highest id retention has deleted).
CREATE TABLE IF NOT EXISTS vault_broker_state (
  key    text   PRIMARY KEY,
  value  bigint NOT NULL
);
