-- bench/sql/fill-radacct.sql: N closed sessions in radacct (SQLite), with the values a radload
-- Start + Stop writes through the shipped queries.conf (bench/daemon/README.md, "1M records").
--   sqlite3 DB ".read raddb/mods-config/sql/main/sqlite/schema.sql" ".read bench/sql/fill-radacct.sql"
-- The count is the LIMIT below.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 1000000)
INSERT INTO radacct (acctsessionid, acctuniqueid, username, realm, nasipaddress, nasportid, nasporttype,
	acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctauthentic, connectinfo_start,
	connectinfo_stop, acctinputoctets, acctoutputoctets, calledstationid, callingstationid,
	acctterminatecause, servicetype, framedprotocol, framedipaddress, framedipv6address,
	framedipv6prefix, framedinterfaceid, delegatedipv6prefix, class)
SELECT printf('6553F00D%012X', i), lower(hex(randomblob(16))), printf('user%04d', i % 1000 + 1), '',
	'127.0.0.1', CAST(i % 1000 + 1 AS TEXT), 'Ethernet',
	1764700000 + i / 100, 1764700600 + i / 100, 1764700600 + i / 100, 600, '', '', '',
	123456789, 987654321, '', '', 'User-Request', 'Framed-User', '',
	printf('10.0.%d.%d', (i % 1000 + 1) / 256, (i % 1000 + 1) % 256), '', '', '', '', ''
FROM n;
