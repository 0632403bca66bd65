-- VX users and profiles for the sql module (SQLite or PostgreSQL; load after the schema).
-- gold: bandwidth mode A (Actual-Data-Rate-* with Minimum/Maximum bounds) in radreply.
-- silver: bandwidth mode B (Maximum-Data-Rate-* only) from its group's profile (radgroupreply).
-- No Framed-IP-Address: the address comes from the "vx" pool (sqlippool / redis_ippool).
INSERT INTO radcheck (username, attribute, op, value) VALUES
	('gold', 'Password.Cleartext', ':=', 'gold-pass'),
	('silver', 'Password.Cleartext', ':=', 'silver-pass');
INSERT INTO radreply (username, attribute, op, value) VALUES
	('gold', 'Session-Timeout', ':=', '86400'),
	('gold', 'Idle-Timeout', ':=', '600'),
	('gold', 'Port-Limit', ':=', '16'),
	('gold', 'Actual-Data-Rate-Downstream', ':=', '100000000'),
	('gold', 'Actual-Data-Rate-Upstream', ':=', '20000000'),
	('gold', 'Minimum-Data-Rate-Downstream', ':=', '1000000'),
	('gold', 'Minimum-Data-Rate-Upstream', ':=', '500000'),
	('gold', 'Maximum-Data-Rate-Downstream', ':=', '50000000'),
	('gold', 'Maximum-Data-Rate-Upstream', ':=', '10000000');
INSERT INTO radusergroup (username, groupname, priority) VALUES ('silver', 'vx-silver', 1);
INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES
	('vx-silver', 'Session-Timeout', ':=', '3600'),
	('vx-silver', 'Idle-Timeout', ':=', '300'),
	('vx-silver', 'Port-Limit', ':=', '4'),
	('vx-silver', 'Maximum-Data-Rate-Downstream', ':=', '10000000'),
	('vx-silver', 'Maximum-Data-Rate-Upstream', ':=', '2000000');
