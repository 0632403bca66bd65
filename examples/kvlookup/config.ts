/**
 * Config schema and `validate` of the `kvlookup` example module. The schema documents itself
 * (`describeSchema(KvlookupConfig)`); `validate` checks what the schema cannot.
 */
import { conf, type ConfigAt } from '../../core';

/** `kvlookup [instance] { … }` */
export const KvlookupConfig = conf.section({
  server: conf.string({ required: true, doc: 'The key/value server, `host:port` (IPv6 as `[addr]:port`).' }),
  timeout: conf.duration({ default: '1s', min: '0.01s', doc: 'How long one lookup waits for its answer.' }),
  connections: conf.integer({ default: 1, min: 1, max: 16, doc: 'Connections the trunk keeps open.' }),
});

/** The parsed config. */
export type KvlookupConfig = conf.Infer<typeof KvlookupConfig>;

/** `host:port` → its parts, or undefined when `server` is not of that form. */
export function parseServer(server: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(server);
  const port = m ? Number(m[3]) : 0;
  return m && port >= 1 && port <= 65535 ? { host: m[1] ?? m[2]!, port } : undefined;
}

/** Runs at start-up and under `radiusd -C`; `at` throws a located error. */
export function validateKvlookup(c: KvlookupConfig, at: ConfigAt): void {
  if (!parseServer(c.server)) at('server', `"${c.server}" is not host:port`);
}
