/**
 * Test helpers for `sqlippool` (not used at run time): the module section for a dialect, with
 * every item its queries.conf uses written out.
 */
import * as path from 'node:path';

/** The repository's raddb/mods-config/sql/ippool directory. */
export const IPPOOL_CONFIG_DIR = path.resolve(__dirname, '..', '..', 'raddb', 'mods-config', 'sql', 'ippool');

/** The schema file of a dialect. */
export function ippoolSchema(dialect: 'sqlite' | 'postgresql'): string {
  return path.join(IPPOOL_CONFIG_DIR, dialect, 'schema.sql');
}

/** The body of `sqlippool [name] { … }` for `dialect`; `extra` lines go before the items. */
export function sqlippoolConf(dialect: 'sqlite' | 'postgresql', o: { extra?: string; lease?: number; offer?: number; name?: string; attr?: string } = {}): string {
  const { extra = '', lease = 3600, name = '' } = o;
  const offer = o.offer ?? lease;
  return `sqlippool ${name} {
	sql_module_instance = "sql"
	dialect = "${dialect}"
${extra}
	ippool_table = "fr_ippool"
	offer_duration = ${offer}
	lease_duration = ${lease}
	pool_name = "%{control.IP-Pool.Name}"
	owner = "%{Calling-Station-Id}"
	gateway = "%{NAS-IP-Address}"
	requested_address = "%{${o.attr ?? 'Framed-IP-Address'}}"
	allocated_address_attr = "reply.${o.attr ?? 'Framed-IP-Address'}"
	$INCLUDE ${IPPOOL_CONFIG_DIR}/${dialect}/queries.conf
}
`;
}
