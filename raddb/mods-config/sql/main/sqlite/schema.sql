-- tsradius: SQLite schema for the `sql` module.
--
-- The tables and columns are those of FreeRADIUS rlm_sql (radcheck, radreply, radgroupcheck,
-- radgroupreply, radusergroup, radacct, radpostauth, nas, nasreload), so a database written by
-- FreeRADIUS 3.2 is read and written by tsradius and the other way round. Times are stored as
-- Unix epoch seconds, as the FreeRADIUS SQLite queries do.
--
-- The module runs this file when it creates a new database file (`sqlite { bootstrap }`).

CREATE TABLE IF NOT EXISTS radcheck (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	username varchar(64) NOT NULL DEFAULT '',
	attribute varchar(64) NOT NULL DEFAULT '',
	op char(2) NOT NULL DEFAULT '==',
	value varchar(253) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS radcheck_username ON radcheck (username);

CREATE TABLE IF NOT EXISTS radreply (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	username varchar(64) NOT NULL DEFAULT '',
	attribute varchar(64) NOT NULL DEFAULT '',
	op char(2) NOT NULL DEFAULT '=',
	value varchar(253) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS radreply_username ON radreply (username);

CREATE TABLE IF NOT EXISTS radgroupcheck (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	groupname varchar(64) NOT NULL DEFAULT '',
	attribute varchar(64) NOT NULL DEFAULT '',
	op char(2) NOT NULL DEFAULT '==',
	value varchar(253) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS radgroupcheck_groupname ON radgroupcheck (groupname);

CREATE TABLE IF NOT EXISTS radgroupreply (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	groupname varchar(64) NOT NULL DEFAULT '',
	attribute varchar(64) NOT NULL DEFAULT '',
	op char(2) NOT NULL DEFAULT '=',
	value varchar(253) NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS radgroupreply_groupname ON radgroupreply (groupname);

CREATE TABLE IF NOT EXISTS radusergroup (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	username varchar(64) NOT NULL DEFAULT '',
	groupname varchar(64) NOT NULL DEFAULT '',
	priority int(11) NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS radusergroup_username ON radusergroup (username);

-- One row per session; acctstoptime IS NULL while the session is open.
CREATE TABLE IF NOT EXISTS radacct (
	radacctid INTEGER PRIMARY KEY AUTOINCREMENT,
	acctsessionid varchar(64) NOT NULL DEFAULT '',
	acctuniqueid varchar(32) NOT NULL DEFAULT '',
	username varchar(64) NOT NULL DEFAULT '',
	groupname varchar(64) NOT NULL DEFAULT '',
	realm varchar(64) DEFAULT '',
	nasipaddress varchar(15) NOT NULL DEFAULT '',
	nasportid varchar(32) DEFAULT NULL,
	nasporttype varchar(32) DEFAULT NULL,
	acctstarttime datetime NULL DEFAULT NULL,
	acctupdatetime datetime NULL DEFAULT NULL,
	acctstoptime datetime NULL DEFAULT NULL,
	acctinterval int(12) DEFAULT NULL,
	acctsessiontime int(12) DEFAULT NULL,
	acctauthentic varchar(32) DEFAULT NULL,
	connectinfo_start varchar(128) DEFAULT NULL,
	connectinfo_stop varchar(128) DEFAULT NULL,
	acctinputoctets bigint(20) DEFAULT NULL,
	acctoutputoctets bigint(20) DEFAULT NULL,
	calledstationid varchar(50) NOT NULL DEFAULT '',
	callingstationid varchar(50) NOT NULL DEFAULT '',
	acctterminatecause varchar(32) NOT NULL DEFAULT '',
	servicetype varchar(32) DEFAULT NULL,
	framedprotocol varchar(32) DEFAULT NULL,
	framedipaddress varchar(15) NOT NULL DEFAULT '',
	framedipv6address varchar(45) NOT NULL DEFAULT '',
	framedipv6prefix varchar(45) NOT NULL DEFAULT '',
	framedinterfaceid varchar(44) NOT NULL DEFAULT '',
	delegatedipv6prefix varchar(45) NOT NULL DEFAULT '',
	class varchar(64) DEFAULT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS radacct_acctuniqueid ON radacct (acctuniqueid);
CREATE INDEX IF NOT EXISTS radacct_username ON radacct (username);
CREATE INDEX IF NOT EXISTS radacct_acctsessionid ON radacct (acctsessionid);
CREATE INDEX IF NOT EXISTS radacct_framedipaddress ON radacct (framedipaddress);
CREATE INDEX IF NOT EXISTS radacct_acctstarttime ON radacct (acctstarttime);
CREATE INDEX IF NOT EXISTS radacct_acctstoptime ON radacct (acctstoptime);
CREATE INDEX IF NOT EXISTS radacct_nasipaddress ON radacct (nasipaddress);
-- Accounting-On/Off closes the open sessions of one NAS.
CREATE INDEX IF NOT EXISTS radacct_bulk_close ON radacct (acctstoptime, nasipaddress, acctstarttime);

CREATE TABLE IF NOT EXISTS radpostauth (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	username varchar(64) NOT NULL DEFAULT '',
	pass varchar(64) NOT NULL DEFAULT '',
	reply varchar(32) NOT NULL DEFAULT '',
	authdate timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
	class varchar(64) NOT NULL DEFAULT ''
);

CREATE TABLE IF NOT EXISTS nas (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	nasname varchar(128) NOT NULL,
	shortname varchar(32),
	type varchar(30) DEFAULT 'other',
	ports int(5),
	secret varchar(60) NOT NULL DEFAULT 'secret',
	server varchar(64),
	community varchar(50),
	description varchar(200) DEFAULT 'RADIUS Client',
	require_ma varchar(4) DEFAULT 'auto',
	limit_proxy_state varchar(4) DEFAULT 'auto'
);
CREATE INDEX IF NOT EXISTS nas_nasname ON nas (nasname);

-- When a NAS last rebooted (the "lightweight" Accounting-On strategy).
CREATE TABLE IF NOT EXISTS nasreload (
	nasipaddress varchar(15) PRIMARY KEY,
	reloadtime datetime NOT NULL
);
