-- tsradius: the embedded default's demonstration pool "main", 10.100.0.1 - 10.100.0.254, written
-- when the default database is created (raddb/mods-enabled/sql, bootstrap). Change it with
--   node bin/sqlippool-tool.js --sqlite raddb/var/db/radius.sqlite remove main 10.100.0.1-10.100.0.254
--   node bin/sqlippool-tool.js --sqlite raddb/var/db/radius.sqlite add main <your range>
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 254)
INSERT OR IGNORE INTO fr_ippool (pool_name, address) SELECT 'main', '10.100.0.' || i FROM n;
