import type { AttrFlags, DictLocation, VendorFormat } from './types';
import type { DataType, Value } from '../types/data-types';

/**
 * One attribute definition in a dictionary tree.
 *
 * Instances are built by the dictionary loader and MUST be treated as
 * read-only afterwards. Unknown attributes met on the wire get a fresh
 * `DictAttr` with `flags.raw` set; they are never added to the tree.
 */
export class DictAttr {
  /** Children by number (wire lookups). Internal children are not here. */
  readonly children = new Map<number, DictAttr>();
  /** Children and aliases by lower-case name. */
  readonly byName = new Map<string, DictAttr>();
  /** Enumerated values: lower-case name → value. */
  values?: Map<string, Value>;
  /** Enumerated values: value key (see `valueKey`) → canonical name. */
  valueNames?: Map<string, string>;
  /** Vendor layout, for attributes of type `vendor`. */
  format?: VendorFormat;
  /** Struct members in wire order (type `struct` only). */
  members?: DictAttr[];
  /** Where it was defined. */
  loc?: DictLocation;

  constructor(
    /** Local name, e.g. `AVPair` for `Vendor-Specific.Cisco.AVPair`. */
    readonly name: string,
    /** Number among its siblings (vendor id for `vendor` attributes). */
    readonly attr: number,
    readonly type: DataType,
    readonly parent: DictAttr | null,
    readonly flags: AttrFlags = {},
  ) {
    this.depth = parent ? parent.depth + 1 : 0;
  }

  readonly depth: number;

  /** Child by wire number, or undefined. */
  child(num: number): DictAttr | undefined {
    return this.children.get(num);
  }

  /** Child or alias by name (case-insensitive), or undefined. */
  childByName(name: string): DictAttr | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Vendor id this attribute sits under (0 for none). */
  get vendor(): number {
    for (let a: DictAttr | null = this; a; a = a.parent) if (a.type === 'vendor') return a.attr;
    return 0;
  }

  /** Numeric path from the protocol root, e.g. `26.9.1`. */
  get oid(): string {
    const parts: number[] = [];
    for (let a: DictAttr | null = this; a && a.type !== 'root'; a = a.parent) parts.push(a.attr);
    return parts.reverse().join('.');
  }

  /** Hierarchical name from the protocol root, e.g. `Vendor-Specific.Cisco.AVPair`. */
  get fullName(): string {
    const parts: string[] = [];
    for (let a: DictAttr | null = this; a && a.type !== 'root'; a = a.parent) parts.push(a.name);
    return parts.reverse().join('.');
  }

  /** True when the attribute holds children rather than a value. */
  get isStructural(): boolean {
    switch (this.type) {
      case 'tlv': case 'struct': case 'vsa': case 'vendor': case 'group': case 'union': case 'root':
        return true;
      default:
        return false;
    }
  }

  /** Enumerated name of a value, if the dictionary defines one. */
  nameOfValue(v: Value): string | undefined {
    return this.valueNames?.get(valueKey(v));
  }
}

/** Key used to index enumerated values of any leaf type. */
export function valueKey(v: Value): string {
  if (typeof v === 'object') return 'x' + Buffer.from(v).toString('hex');
  return typeof v + ':' + String(v);
}
