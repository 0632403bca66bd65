import { DictAttr } from './attr';

/** A dictionary syntax or semantic error, always located as `file[line]: message`. */
export class DictError extends Error {
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`${file}[${line}]: ${detail}`);
    this.name = 'DictError';
  }
}

/**
 * All attribute definitions of one protocol (e.g. RADIUS), loaded from
 * FreeRADIUS-format dictionary files (v3 and v4 syntax).
 *
 * API CONTRACT (other code depends on these signatures):
 * - `Dictionary.load(paths)`: new dictionary from files or directories (a
 *   directory means its `dictionary` file). Throws `DictError`.
 * - `loadFile(path)`: add definitions from one more file (`$INCLUDE`s followed).
 * - `resolve(name, from?)`: an attribute by name. Accepts hierarchical names
 *   (`Vendor-Specific.Cisco.AVPair`, `Password.Cleartext`), aliases
 *   (`Cleartext-Password`), v3 flat vendor names (`Cisco-AVPair`,
 *   `Actual-Data-Rate-Upstream`), and numeric OIDs (`26.9.1`, `241.1`),
 *   case-insensitively. `from` makes the lookup relative to a parent.
 * - `vendor(idOrName)`: the `vendor`-type attribute under `Vendor-Specific`.
 * - `packetTypeName(code)` / `packetTypeCode(name)`: from `Packet-Type` values.
 */
export class Dictionary {
  /** The protocol root; its children are the top-level attributes. */
  readonly root: DictAttr;

  constructor(readonly protocol = 'RADIUS', readonly protocolNumber = 1) {
    this.root = new DictAttr(protocol, protocolNumber, 'root', null);
  }

  static load(paths: string | string[]): Dictionary {
    void paths;
    throw new Error('not implemented');
  }

  loadFile(path: string): void {
    void path;
    throw new Error('not implemented');
  }

  resolve(name: string, from?: DictAttr): DictAttr | undefined {
    void name; void from;
    throw new Error('not implemented');
  }

  vendor(idOrName: number | string): DictAttr | undefined {
    void idOrName;
    throw new Error('not implemented');
  }
}
