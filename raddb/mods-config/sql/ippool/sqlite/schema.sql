-- tsradius: IP pool table of the `sqlippool` module for SQLite (FreeRADIUS v4 `fr_ippool`
-- columns). Times are UTC text ('YYYY-MM-DD HH:MM:SS'); an address is free when its
-- expiry_time is not in the future.
CREATE TABLE IF NOT EXISTS fr_ippool_status (
	status_id	INTEGER PRIMARY KEY,
	status		TEXT NOT NULL
);
INSERT OR IGNORE INTO fr_ippool_status (status_id, status) VALUES (1, 'dynamic'), (2, 'static'), (3, 'declined'), (4, 'disabled');

CREATE TABLE IF NOT EXISTS fr_ippool (
	id		INTEGER PRIMARY KEY,
	pool_name	TEXT NOT NULL,
	address		TEXT NOT NULL,
	owner		TEXT NOT NULL DEFAULT '',
	gateway		TEXT NOT NULL DEFAULT '',
	expiry_time	DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00',
	status_id	INTEGER NOT NULL DEFAULT 1 REFERENCES fr_ippool_status(status_id),
	counter		INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS fr_ippool_pool_address ON fr_ippool (pool_name, address);
CREATE INDEX IF NOT EXISTS fr_ippool_pool_expiry ON fr_ippool (pool_name, expiry_time);
CREATE INDEX IF NOT EXISTS fr_ippool_owner ON fr_ippool (owner);
CREATE INDEX IF NOT EXISTS fr_ippool_gateway ON fr_ippool (gateway);
