/**
 * What `call <server> { }` needs from the server: the virtual servers by name. `core/server`
 * implements it (the process state machine of each site); `core/unlang` never imports
 * `core/server`.
 */

import type { Rcode } from '../request/rcode';
import type { Request } from '../request/request';

export interface VirtualServers {
  /** True when a virtual server of this name exists (checked when `call` compiles). */
  has(name: string): boolean;
  /** Every server name, when known (for did-you-mean suggestions). */
  list?(): Iterable<string>;
  /**
   * Runs `request` through the named server as if it had come from the network (for RADIUS:
   * `recv`, `authenticate <Auth-Type>`, `send`), editing its lists in place, and gives the
   * server's final rcode. `signal` is aborted when the caller is cancelled.
   */
  run(name: string, request: Request, signal: AbortSignal): Rcode | Promise<Rcode>;
}
