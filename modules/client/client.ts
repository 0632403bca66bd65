/**
 * The `client` instance (FreeRADIUS v4 rlm_client): policy access to the configuration of RADIUS
 * clients. `%client(field[, address])` (also `%request.client(…)`) gives the values of an item of the
 * request's client, or of the client for `address`; `map client [address] { Attr op 'field' … }`
 * copies items into attributes. A client's items are every item written in its section (FreeRADIUS
 * lets an operator add items of their own, `group = staff`), with `shortname` and `nas_type`
 * defaulted. The clients are the server's own (core's `CLIENTS` directory): config sections and
 * those modules read (ldap and sql `read_clients`).
 */
import 'reflect-metadata';
import * as net from 'node:net';
import { inject, injectable } from 'tsyringe';
import { CLIENTS, MODULE_DICT, MODULE_NAME, box, defineDict, getValue, normaliseAddress } from '../../core';
import type { BootstrapContext, CallContext, Client, ClientDirectory, DictHandles, MapResult, Request } from '../../core';
import { FieldMap } from '../shared/field-map';

/** Attributes naming the request's client (set by the process layer from the packet's source). */
export const CLIENT_DICT = defineDict({
  ip: 'Client-IP-Address',
  ip6: { attr: 'Client-IPv6-Address', optional: true },
  shortname: 'Client-Shortname',
});

@injectable()
export class ClientModule {
  constructor(
    @inject(MODULE_NAME) private readonly name: string,
    @inject(CLIENTS) private readonly clients: ClientDirectory,
    @inject(MODULE_DICT) private readonly da: DictHandles<typeof CLIENT_DICT>,
  ) {}

  /** `%<inst>(field[, address])`, and `%request.client(…)` (v4's name) for the first instance. */
  bootstrap(ctx: BootstrapContext): void {
    const fn = (c: { request: Request }, args: { value: unknown }[][]) => {
      const field = (args[0] ?? []).map((b) => String(b.value)).join('');
      const at = args[1]?.length ? args[1].map((b) => String(b.value)).join('') : undefined;
      const client = at === undefined ? this.requestClient(c.request) : this.byAddress(at);
      if (!client) {
        if (at === undefined) throw new Error(`${this.name}: no client is known for this request`);
        if (c.request.debug) c.request.log.debug(`${this.name}: no client with address ${at}`);
        return [];
      }
      return (client.fields.get(field.toLowerCase()) ?? []).map((v) => box('string', v));
    };
    const opts = { returnType: 'string' as const, minArgs: 1, maxArgs: 2, wordArgs: true };
    ctx.registerXlat(this.name, fn, opts);
    if (this.name === 'client') ctx.registerXlat('request.client', fn, opts);
  }

  /**
   * `map <inst> [address] { Attr op 'field' … }`: the items of the request's client, or of the client
   * for `address` (`notfound` when there is none). Items the client lacks are skipped.
   */
  mapQuery(request: Request, _ctx: CallContext, query: string): MapResult {
    const at = query.trim();
    let client: Client | undefined;
    try {
      client = at === '' ? this.requestClient(request) : this.byAddress(at);
    } catch (e) {
      request.log.error(`${this.name}: ${(e as Error).message}`);
      return 'fail';
    }
    if (!client) {
      if (request.debug) request.log.debug(`${this.name}: no client ${at ? `with address ${at}` : 'for this request'}`);
      return 'notfound';
    }
    if (request.debug) request.log.debug(`${this.name}: client ${client.name} (${client.network})`);
    const fields = new FieldMap();
    for (const [k, v] of client.fields) fields.add(k, v);
    return { fields, skipMissing: true };
  }

  /** The client a request came from (by its source address and Client-Shortname). */
  requestClient(request: Request): Client | undefined {
    const ip = getValue(request.request, this.da.ip) ?? (this.da.ip6 && getValue(request.request, this.da.ip6));
    if (ip === undefined) return undefined;
    const short = getValue(request.request, this.da.shortname);
    return this.clients.forSource(String(ip), short === undefined ? undefined : String(short));
  }

  /** The client for an address given in policy (an IPv4 or IPv6 address). */
  private byAddress(text: string): Client | undefined {
    const a = normaliseAddress(text.trim());
    if (!net.isIP(a)) throw new Error(`"${text}" is not a valid IPv4 or IPv6 address`);
    return this.clients.find(a);
  }
}
