-- Total value locked (TVL) across all vaults of the example schema (01_vault_schema.sql):
-- the default query behind tvl_update events on /admin/tvl. It returns one row with one
-- numeric column, tvl (0 when there are no vaults). Replace it with your own query if your
-- vaults live elsewhere; keep the single column named tvl.
SELECT coalesce(sum(total_balance), 0) AS tvl FROM vaults;
