/**
 * The virtual servers of one configuration generation, for `call <server> { }`
 * (`core/unlang/servers.ts`). Names are known before any site compiles (so a site may call
 * one defined after it); each site gets its own process state machine on first use.
 */
import type { Rcode } from '../request/rcode';
import { createRadiusProcess, type RadiusProcess } from '../process/radius/process';
import type { CompiledSite } from '../process/namespace';
import type { Request } from '../request/request';
import type { VirtualServers } from '../unlang/servers';

export class SiteTable implements VirtualServers {
  private readonly sites = new Map<string, CompiledSite>();
  private readonly procs = new Map<string, RadiusProcess>();

  constructor(private readonly names: ReadonlySet<string>) {}

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** Every server name (for did-you-mean suggestions). */
  list(): Iterable<string> {
    return this.names;
  }

  /** Adds a compiled site (after `compileSite`). */
  add(site: CompiledSite): void {
    this.sites.set(site.name, site);
  }

  run(name: string, request: Request, signal: AbortSignal): Promise<Rcode> {
    let p = this.procs.get(name);
    if (!p) {
      const site = this.sites.get(name);
      if (!site) throw new Error(`virtual server "${name}" is not loaded`);
      p = createRadiusProcess(site);
      this.procs.set(name, p);
    }
    return p.call(request, signal);
  }
}
