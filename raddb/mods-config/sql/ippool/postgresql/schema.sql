-- tsradius: IP pool table of the `sqlippool` module for PostgreSQL (FreeRADIUS v4 `fr_ippool`
-- columns). An address is free when its expiry_time is not in the future.
CREATE TABLE IF NOT EXISTS fr_ippool_status (
	status_id	INT PRIMARY KEY,
	status		VARCHAR(10) NOT NULL
);
INSERT INTO fr_ippool_status (status_id, status) VALUES (1, 'dynamic'), (2, 'static'), (3, 'declined'), (4, 'disabled')
	ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS fr_ippool (
	id		BIGSERIAL PRIMARY KEY,
	pool_name	VARCHAR(64) NOT NULL,
	address		INET NOT NULL,
	owner		VARCHAR(128) NOT NULL DEFAULT '',
	gateway		VARCHAR(128) NOT NULL DEFAULT '',
	expiry_time	TIMESTAMP(0) WITHOUT TIME ZONE NOT NULL DEFAULT '1970-01-01 00:00:00',
	status_id	INT NOT NULL DEFAULT 1 REFERENCES fr_ippool_status(status_id),
	counter		INT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS fr_ippool_pool_address ON fr_ippool (pool_name, address);
CREATE INDEX IF NOT EXISTS fr_ippool_pool_expiry ON fr_ippool (pool_name, expiry_time);
CREATE INDEX IF NOT EXISTS fr_ippool_owner ON fr_ippool (owner);
CREATE INDEX IF NOT EXISTS fr_ippool_gateway ON fr_ippool (gateway);
