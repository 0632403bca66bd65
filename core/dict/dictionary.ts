import * as path from 'node:path';
import { DictAttr, valueKey } from './attr';
import { DictLoader } from './loader';
import type { VendorFormat } from './types';
import type { Value } from '../types/data-types';
import { suggest } from '../types/suggest';

export { DictError } from './errors';

/** A vendor declared with `VENDOR name number [format=t,l[,c]]`. */
export interface VendorDef {
  /** First name declared for the number (the canonical one). */
  readonly name: string;
  readonly id: number;
  readonly format: VendorFormat;
  /** All names declared for this number (`Altiga`, `Cisco-VPN3000` …). */
  readonly names: string[];
  /** `vendor` attributes created for it (under `Vendor-Specific` and any extended VSA). */
  readonly attrs: DictAttr[];
}

/**
 * Loader bookkeeping kept beside the tree. Internal: use the `Dictionary`
 * methods instead.
 * @internal
 */
export class DictState {
  /** Internal attributes by number, per parent (they are not in `parent.children`). */
  readonly internalByNum = new Map<DictAttr, Map<number, DictAttr>>();
  /** v3 flat names of vendor attributes (`Cisco-AVPair`, `AVPair`), lower case. */
  readonly flatAliases = new Map<string, DictAttr>();
  /** ALIAS names as written (lower-case → spelling), for suggestions. */
  readonly aliasNames = new Map<string, string>();
  /** Suggestion tables by parent (null: the root with its flat aliases), built on first use. */
  readonly suggestTables = new Map<DictAttr | null, Map<string, string>>();
  readonly vendorsById = new Map<number, VendorDef>();
  readonly vendorsByName = new Map<string, VendorDef>();
  /** `ENUM` value sets by lower-case name. */
  readonly enums = new Map<string, DictAttr>();
  /** `resolve()` results for root-relative names. */
  readonly resolveCache = new Map<string, DictAttr | null>();
  /** Union struct members, whose key members get enumerated names from the union's children. */
  readonly unions: DictAttr[] = [];
  /** Synthetic numbers for `DEFINE`d attributes (never on the wire). */
  nextDefineNumber = 0x40000000;
}

const RESOLVE_CACHE_MAX = 20000;
const DIGITS = /^[0-9]+$/;

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
  /** Loader bookkeeping. @internal */
  readonly state = new DictState();

  constructor(readonly protocol = 'RADIUS', readonly protocolNumber = 1) {
    this.root = new DictAttr(protocol, protocolNumber, 'root', null);
  }

  /**
   * A new RADIUS dictionary from one or more files or directories, loaded in
   * order. Throws `DictError` (`file[line]: message`) on the first problem.
   */
  static load(paths: string | string[]): Dictionary {
    const d = new Dictionary();
    for (const p of Array.isArray(paths) ? paths : [paths]) d.loadFile(p);
    return d;
  }

  /** Add the definitions of one more file (or directory's `dictionary` file). Throws `DictError`. */
  loadFile(path: string): void {
    this.state.suggestTables.clear();
    new DictLoader(this).loadPath(path);
  }

  /**
   * Add definitions from dictionary text (handy for tests). `file` names it in
   * errors; `$INCLUDE`s are relative to `dir`. Throws `DictError`.
   */
  loadText(text: string, file = '<text>', dir: string = process.cwd()): void {
    this.state.suggestTables.clear();
    new DictLoader(this).loadText(text, file, path.resolve(dir));
  }

  /**
   * Adds the enumerated name `name` to an integer attribute with the next free number (one above the
   * highest value it has), unless the attribute already has that name; returns the value either way.
   * FreeRADIUS does this at start-up for `authenticate <name>` sections (`Auth-Type`), the one
   * run-time addition a loaded dictionary gets.
   */
  addEnumName(attr: DictAttr, name: string): number {
    const lower = name.toLowerCase();
    const have = attr.values?.get(lower);
    if (typeof have === 'number') return have;
    if (!/^u?int(8|16|32)$/.test(attr.type)) throw new Error(`'${attr.fullName}' is of type ${attr.type}: cannot add the value name "${name}"`);
    let max = 0;
    for (const v of attr.values?.values() ?? []) if (typeof v === 'number' && v > max) max = v;
    const v = max + 1;
    (attr.values ??= new Map()).set(lower, v);
    (attr.valueNames ??= new Map()).set(valueKey(v), name);
    return v;
  }

  /**
   * An attribute by name: hierarchical (`Vendor-Specific.Cisco.AVPair`),
   * alias, v3 flat vendor name (`Cisco-AVPair`, only from the root), numeric
   * components (`26.9.1`, `Vendor-Specific.9.1`), case-insensitive. With
   * `from`, the name is relative to that attribute (a leading `.` is allowed);
   * `@.` forces the protocol root. Internal attributes are found too.
   */
  resolve(name: string, from?: DictAttr): DictAttr | undefined {
    if (from && from !== this.root) return this.lookup(name, from);
    const cache = this.state.resolveCache;
    const hit = cache.get(name);
    if (hit !== undefined) return hit ?? undefined;
    const r = this.lookup(name, this.root);
    if (cache.size >= RESOLVE_CACHE_MAX) cache.clear();
    cache.set(name, r ?? null);
    return r;
  }

  /**
   * The closest attribute name to a misspelt `name` (for "did you mean"), spelt as it resolves:
   * the last component is matched among the children of what the prefix names (or of `from`, or
   * the root and its v3 flat aliases). Undefined when nothing is close.
   */
  suggestName(name: string, from?: DictAttr): string | undefined {
    let parent = from ?? this.root;
    let prefix = '';
    let leaf = name;
    const dot = name.lastIndexOf('.');
    if (dot > 0) {
      const p = this.resolve(name.slice(0, dot), from);
      if (!p) return undefined;
      parent = p.type === 'group' ? this.groupRef(p) ?? p : p;
      prefix = name.slice(0, dot + 1);
      leaf = name.slice(dot + 1);
    }
    const shown = this.suggestTable(parent, !prefix);
    const hit = suggest(leaf.toLowerCase(), shown.keys());
    return hit === undefined ? undefined : prefix + shown.get(hit)!;
  }

  /** Lower-case name → spelling of the names under `parent` (with the v3 flat aliases at the root), built once. */
  private suggestTable(parent: DictAttr, flat: boolean): Map<string, string> {
    const key = flat && parent === this.root ? null : parent;
    let shown = this.state.suggestTables.get(key);
    if (shown) return shown;
    shown = new Map<string, string>();
    for (const [k, a] of parent.byName) shown.set(k, a.name.toLowerCase() === k ? a.name : this.state.aliasNames.get(k) ?? k);
    if (key === null) {
      for (const [k, a] of this.state.flatAliases) {
        if (shown.has(k)) continue;
        let v: DictAttr | null = a.parent;
        while (v && v.type !== 'vendor') v = v.parent;
        const name = v ? `${v.name}-${a.name}` : a.name;
        shown.set(k, name.toLowerCase() === k ? name : a.fullName);
      }
    }
    this.state.suggestTables.set(key, shown);
    return shown;
  }

  /** The closest enumeration name of `attr` to a misspelt value name, or undefined. */
  suggestValue(attr: DictAttr, name: string): string | undefined {
    if (!attr.values) return undefined;
    const hit = suggest(name.toLowerCase(), attr.values.keys());
    return hit === undefined ? undefined : attr.nameOfValue(attr.values.get(hit)!) ?? hit;
  }

  /** Uncached `resolve`. @internal */
  lookup(name: string, start: DictAttr): DictAttr | undefined {
    let s = name;
    if (s.startsWith('@.')) {
      s = s.slice(2);
      start = this.root;
    } else if (s.startsWith('.')) {
      // One dot: relative to `start`; each further dot goes up one level.
      let i = 1;
      while (s[i] === '.') {
        if (!start.parent) return undefined;
        start = start.parent;
        i++;
      }
      s = s.slice(i);
    }
    if (s === '') return undefined;
    const lower = s.toLowerCase();
    const whole = start.byName.get(lower) ?? (start === this.root ? this.state.flatAliases.get(lower) : undefined);
    if (whole) return whole;
    if (lower.indexOf('.') < 0) return DIGITS.test(lower) ? this.childAny(start, Number(lower)) : undefined;
    let cur = start;
    const parts = lower.split('.');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      let next = cur.byName.get(p);
      if (!next && i === 0 && cur === this.root) next = this.state.flatAliases.get(p);
      if (!next && DIGITS.test(p)) next = this.childAny(cur, Number(p));
      if (!next && cur.type === 'group') {
        // A group holds attributes of its ref= target (by default the protocol root).
        const g = this.groupRef(cur);
        if (g && g !== cur) next = g.byName.get(p) ?? (DIGITS.test(p) ? this.childAny(g, Number(p)) : undefined);
      }
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  /**
   * The attribute whose children a `group` attribute contains: its `ref=`
   * target in this protocol, or the protocol root when it has no `ref=`.
   * Undefined for a reference to another protocol (`ref=@DHCPv4`) or a
   * non-group attribute.
   */
  groupRef(attr: DictAttr): DictAttr | undefined {
    if (attr.type !== 'group') return undefined;
    const ref = attr.flags.ref;
    if (ref === undefined) return this.root;
    if (ref.startsWith('@') && !ref.startsWith('@.')) return undefined;
    return this.lookup(ref.startsWith('@.') ? ref : '@.' + ref, this.root);
  }

  /** Child by number, including internal children (which `parent.child()` leaves out). */
  childAny(parent: DictAttr, num: number): DictAttr | undefined {
    return parent.children.get(num) ?? this.state.internalByNum.get(parent)?.get(num);
  }

  /** An internal child by number (e.g. `Packet-Type` is internal 1000 under the root). */
  internalChild(parent: DictAttr, num: number): DictAttr | undefined {
    return this.state.internalByNum.get(parent)?.get(num);
  }

  /** The root `Vendor-Specific` (26, type vsa), if defined. */
  defaultVsa(): DictAttr | undefined {
    const a = this.root.children.get(26);
    if (a && a.type === 'vsa') return a;
    const b = this.root.byName.get('vendor-specific');
    return b && b.type === 'vsa' && b.parent === this.root ? b : undefined;
  }

  /**
   * The `vendor`-type attribute under `Vendor-Specific`, by vendor number or
   * any declared name (case-insensitive). Its `format` gives the VSA layout.
   */
  vendor(idOrName: number | string): DictAttr | undefined {
    const vsa = this.defaultVsa();
    if (!vsa) return undefined;
    if (typeof idOrName === 'number') {
      const a = vsa.children.get(idOrName);
      return a && a.type === 'vendor' ? a : undefined;
    }
    const def = this.state.vendorsByName.get(idOrName.toLowerCase());
    if (def) return vsa.children.get(def.id);
    const a = vsa.byName.get(idOrName.toLowerCase());
    return a && a.type === 'vendor' ? a : undefined;
  }

  /** A declared vendor by number or name, whether or not any attribute uses it. */
  vendorDef(idOrName: number | string): VendorDef | undefined {
    return typeof idOrName === 'number'
      ? this.state.vendorsById.get(idOrName)
      : this.state.vendorsByName.get(idOrName.toLowerCase());
  }

  /** A value set declared with `ENUM name type`, by name (case-insensitive). */
  enumByName(name: string): DictAttr | undefined {
    return this.state.enums.get(name.toLowerCase());
  }

  /** Name of a packet code from the `Packet-Type` values (`1` → `Access-Request`). */
  packetTypeName(code: number): string | undefined {
    return this.resolve('Packet-Type')?.nameOfValue(code);
  }

  /** Packet code for a name from the `Packet-Type` values (`Access-Request` → `1`), case-insensitive. */
  packetTypeCode(name: string): number | undefined {
    const v: Value | undefined = this.resolve('Packet-Type')?.values?.get(name.toLowerCase());
    return typeof v === 'number' ? v : undefined;
  }

  /** Every attribute in the tree, depth first, including internal ones (aliases are not repeated). */
  *attributes(from: DictAttr = this.root): IterableIterator<DictAttr> {
    const kids = [...from.children.values()];
    const internal = this.state.internalByNum.get(from);
    if (internal) kids.push(...internal.values());
    for (const a of from.byName.values()) {
      if (a.parent === from && a.flags.defined) kids.push(a);
    }
    for (const k of kids) {
      yield k;
      yield* this.attributes(k);
    }
  }
}
