/**
 * The `always` instance: returns its configured rcode from every section. The rcode
 * can be changed at run time with `%<instance>(rcode)`, as FreeRADIUS v4 allows for
 * simulating a failed datastore.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG, MODULE_NAME } from '../../core';
import { RCODES, type CallContext, type Rcode } from '../../core';
import type { BootstrapContext } from '../../core';
import type { Request } from '../../core';
import { box } from '../../core';
import type { AlwaysConfig } from './config';

/** A module instance that always returns the same rcode. */
@injectable()
export class Always {
  /** The rcode returned by {@link call}; starts as `config.rcode`. */
  rcode: Rcode;
  private readonly configured: Rcode;

  constructor(
    @inject(MODULE_CONFIG) config: AlwaysConfig,
    @inject(MODULE_NAME) private readonly name: string,
  ) {
    this.rcode = this.configured = config.rcode;
  }

  /**
   * Registers `%<instance>()`, the current status: `alive` while the configured rcode is
   * returned, else the rcode forced by `%<instance>(rcode)`. `%<instance>(rcode)` forces it,
   * `%<instance>('alive')` goes back to the configured rcode; both return the old status.
   */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, (_c, args) => {
      const old = this.rcode === this.configured ? 'alive' : this.rcode;
      const want = args[0]?.map((b) => String(b.value)).join('').trim().toLowerCase();
      if (want) {
        if (want === 'alive') this.rcode = this.configured;
        else {
          const r = RCODES.find((x) => x === want);
          if (!r) throw new Error(`${this.name}: unknown status "${want}" (alive or an rcode)`);
          this.rcode = r;
        }
      }
      return [box('string', old)];
    }, { returnType: 'string', maxArgs: 1 });
  }

  /** Every section: the configured rcode. */
  call(_request: Request, _ctx: CallContext): Rcode {
    return this.rcode;
  }
}
