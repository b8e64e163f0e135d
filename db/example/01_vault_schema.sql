-- Example vault schema: what a plain vault application keeps, with no knowledge of vault-broker.
-- 02_vault_triggers.sql adds the triggers that turn its changes into vault_events rows.
--
-- Apply after the broker's migration (db/migrations, which creates vault_events):
--   psql -h 127.0.0.1 -U postgres -d vault_broker -v ON_ERROR_STOP=1 \
--        -f db/example/01_vault_schema.sql -f db/example/02_vault_triggers.sql
-- Idempotent: running it again changes nothing. Amounts are integers in the token's smallest
-- unit (e.g. micro-USDT), hence numeric(38,0). Requires PostgreSQL 13+ (gen_random_uuid()).

-- One vault per wallet (base58 Ed25519 public key).
CREATE TABLE IF NOT EXISTS vaults (
  owner           text          PRIMARY KEY,
  total_balance   numeric(38,0) NOT NULL DEFAULT 0,
  locked_balance  numeric(38,0) NOT NULL DEFAULT 0,
  updated_at      timestamptz,
  CONSTRAINT vaults_balances_check
    CHECK (total_balance >= 0 AND locked_balance >= 0 AND locked_balance <= total_balance)
);

-- Deposits and withdrawals: pending until confirmed on-chain (or failed).
CREATE TABLE IF NOT EXISTS vault_transactions (
  id                uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
  owner             text          NOT NULL REFERENCES vaults (owner),
  transaction_type  text          NOT NULL CHECK (transaction_type IN ('deposit', 'withdraw')),
  amount            numeric(38,0) NOT NULL CHECK (amount > 0),
  signature         text,
  status            text          NOT NULL DEFAULT 'pending'
                                  CHECK (status IN ('pending', 'confirmed', 'failed')),
  created_at        timestamptz   NOT NULL DEFAULT now(),
  confirmed_at      timestamptz
);
CREATE INDEX IF NOT EXISTS vault_transactions_owner ON vault_transactions (owner, created_at);

-- Trading positions: an open position locks its collateral in the owner's vault.
CREATE TABLE IF NOT EXISTS positions (
  id          text          PRIMARY KEY,
  owner       text          NOT NULL REFERENCES vaults (owner),
  collateral  numeric(38,0) NOT NULL CHECK (collateral > 0),
  status      text          NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  opened_at   timestamptz   NOT NULL DEFAULT now(),
  closed_at   timestamptz
);
CREATE INDEX IF NOT EXISTS positions_owner ON positions (owner);
