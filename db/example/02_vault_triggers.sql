-- Triggers that make the example vault schema (01_vault_schema.sql) write vault_events rows,
-- so a plain vault application gets real-time events without code changes (DESIGN.md §3).
--
-- Requires, in this order: the broker's migration db/migrations/V1__vault_events.sql (the broker
-- applies it at start, or a DBA with psql), then 01_vault_schema.sql, then this file.
-- Idempotent: CREATE OR REPLACE functions, DROP TRIGGER IF EXISTS before each CREATE TRIGGER.
--
-- Every row is inserted in the same transaction as the change it describes (transactional
-- outbox); a rollback removes both. Payloads are the seed's "data" objects, camelCase keys.
--
--   change                                        rows written (owner = the vault's owner)
--   vaults: total/locked balance changes          balance_update
--   vault_transactions: status becomes confirmed  transaction_confirmed
--   positions: opened (insert as 'open')          balance_update, then collateral_locked
--   positions: closed (or an open one deleted)    balance_update, then collateral_unlocked
--
-- Opening and closing adjust vaults.locked_balance here, so the application only inserts or
-- updates the position. The balances in each payload are the values after the change, read
-- under the vault's row lock: two concurrent changes to one vault write their rows in commit
-- order, which is id order.

DO $$
BEGIN
  IF to_regclass('vault_events') IS NULL THEN
    RAISE EXCEPTION 'vault_events does not exist'
      USING HINT = 'Apply db/migrations/V1__vault_events.sql (or start vault-broker once) first.';
  END IF;
  IF to_regclass('vaults') IS NULL OR to_regclass('vault_transactions') IS NULL
     OR to_regclass('positions') IS NULL THEN
    RAISE EXCEPTION 'the example vault schema does not exist'
      USING HINT = 'Apply db/example/01_vault_schema.sql first.';
  END IF;
END
$$;

-- An amount as JSON. The broker passes payloads through value-exact, but JavaScript clients
-- read JSON numbers as doubles, which are exact only up to 2^53 - 1 = 9007199254740991
-- (Number.MAX_SAFE_INTEGER). DESIGN.md §3 asks producers to write larger amounts as strings:
-- 100000000 -> 100000000, 9007199254740992 -> "9007199254740992". Clients must accept both.
CREATE OR REPLACE FUNCTION vault_json_amount(amount numeric) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN abs(amount) > 9007199254740991 THEN to_jsonb(amount::text)
              ELSE to_jsonb(amount) END
$$;

-- balance_update {owner, totalBalance, lockedBalance, availableBalance}
CREATE OR REPLACE FUNCTION vaults_emit_balance_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vault_events (event_type, owner, payload)
  VALUES ('balance_update', NEW.owner, jsonb_build_object(
    'owner',            NEW.owner,
    'totalBalance',     vault_json_amount(NEW.total_balance),
    'lockedBalance',    vault_json_amount(NEW.locked_balance),
    'availableBalance', vault_json_amount(NEW.total_balance - NEW.locked_balance)));
  RETURN NULL;
END
$$;

-- Only when a balance really changed (an UPDATE that sets the same values writes nothing).
DROP TRIGGER IF EXISTS vaults_balance_update ON vaults;
CREATE TRIGGER vaults_balance_update
  AFTER UPDATE OF total_balance, locked_balance ON vaults
  FOR EACH ROW
  WHEN (OLD.total_balance IS DISTINCT FROM NEW.total_balance
        OR OLD.locked_balance IS DISTINCT FROM NEW.locked_balance)
  EXECUTE FUNCTION vaults_emit_balance_update();

-- A vault created with a balance (e.g. the first deposit as an INSERT) reports it too.
DROP TRIGGER IF EXISTS vaults_balance_insert ON vaults;
CREATE TRIGGER vaults_balance_insert
  AFTER INSERT ON vaults
  FOR EACH ROW
  WHEN (NEW.total_balance <> 0 OR NEW.locked_balance <> 0)
  EXECUTE FUNCTION vaults_emit_balance_update();

-- transaction_confirmed {transactionId, transactionType, amount, signature}
-- The application updates the vault's balance itself, in the same transaction as the
-- confirmation; that update writes the balance_update.
CREATE OR REPLACE FUNCTION vault_transactions_emit_confirmed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO vault_events (event_type, owner, payload)
  VALUES ('transaction_confirmed', NEW.owner, jsonb_build_object(
    'transactionId',   NEW.id,
    'transactionType', NEW.transaction_type,
    'amount',          vault_json_amount(NEW.amount),
    'signature',       NEW.signature));
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS vault_transactions_confirmed ON vault_transactions;
CREATE TRIGGER vault_transactions_confirmed
  AFTER UPDATE OF status ON vault_transactions
  FOR EACH ROW
  WHEN (NEW.status = 'confirmed' AND OLD.status IS DISTINCT FROM 'confirmed')
  EXECUTE FUNCTION vault_transactions_emit_confirmed();

-- A transaction recorded already confirmed counts as confirmed at insert.
DROP TRIGGER IF EXISTS vault_transactions_confirmed_insert ON vault_transactions;
CREATE TRIGGER vault_transactions_confirmed_insert
  AFTER INSERT ON vault_transactions
  FOR EACH ROW
  WHEN (NEW.status = 'confirmed')
  EXECUTE FUNCTION vault_transactions_emit_confirmed();

-- Locks (lock = true) or unlocks a position's collateral in its owner's vault, then writes
-- collateral_locked / collateral_unlocked {owner, amount, positionId, lockedBalance,
-- availableBalance} with the balances after the change. The vault UPDATE itself writes a
-- balance_update first (trigger above). Locking more than the available balance fails with
-- the vaults_balances_check violation, and so does the position change.
CREATE OR REPLACE FUNCTION vault_position_collateral(
  p_owner text, p_position_id text, p_amount numeric, p_lock boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_total  numeric;
  v_locked numeric;
BEGIN
  UPDATE vaults
     SET locked_balance = locked_balance + CASE WHEN p_lock THEN p_amount ELSE -p_amount END,
         updated_at = now()
   WHERE owner = p_owner
  RETURNING total_balance, locked_balance INTO v_total, v_locked;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no vault for owner %', p_owner USING ERRCODE = 'foreign_key_violation';
  END IF;

  INSERT INTO vault_events (event_type, owner, payload)
  VALUES (CASE WHEN p_lock THEN 'collateral_locked' ELSE 'collateral_unlocked' END,
          p_owner,
          jsonb_build_object(
            'owner',            p_owner,
            'amount',           vault_json_amount(p_amount),
            'positionId',       p_position_id,
            'lockedBalance',    vault_json_amount(v_locked),
            'availableBalance', vault_json_amount(v_total - v_locked)));
END
$$;

-- An open position holds its collateral locked. Opening locks it; closing or deleting an open
-- position unlocks it; reopening locks it again. Changing the owner, id or collateral of an
-- open position unlocks the old and locks the new.
CREATE OR REPLACE FUNCTION positions_track_collateral() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'open' THEN
    PERFORM vault_position_collateral(OLD.owner, OLD.id, OLD.collateral, false);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'open' THEN
    PERFORM vault_position_collateral(NEW.owner, NEW.id, NEW.collateral, true);
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS positions_collateral_insert ON positions;
CREATE TRIGGER positions_collateral_insert
  AFTER INSERT ON positions
  FOR EACH ROW
  WHEN (NEW.status = 'open')
  EXECUTE FUNCTION positions_track_collateral();

DROP TRIGGER IF EXISTS positions_collateral_update ON positions;
CREATE TRIGGER positions_collateral_update
  AFTER UPDATE OF status, owner, collateral, id ON positions
  FOR EACH ROW
  WHEN ((OLD.status, OLD.owner, OLD.collateral, OLD.id)
        IS DISTINCT FROM (NEW.status, NEW.owner, NEW.collateral, NEW.id)
        AND (OLD.status = 'open' OR NEW.status = 'open'))
  EXECUTE FUNCTION positions_track_collateral();

DROP TRIGGER IF EXISTS positions_collateral_delete ON positions;
CREATE TRIGGER positions_collateral_delete
  AFTER DELETE ON positions
  FOR EACH ROW
  WHEN (OLD.status = 'open')
  EXECUTE FUNCTION positions_track_collateral();
