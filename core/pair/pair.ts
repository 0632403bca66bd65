import type { DictAttr } from '../dict/attr';
import type { Value } from '../types/data-types';

/**
 * One attribute instance: a definition plus either a value (leaf types) or
 * children (structural types).
 *
 * Pairs decoded from a packet may be lazy: they hold a view (`raw`) over the
 * packet buffer and decode their value on first access. Code MUST read the
 * value through `value` and never touch `raw` unless it wants wire bytes.
 */
export class Pair {
  /** RFC 2868 tag (1–31), or undefined. */
  tag?: number;
  /** Children of a structural pair, in order. */
  children?: Pair[];
  /** Set by `%pairs.immutable()`: policy edits can neither change nor delete this pair. */
  immutable?: boolean;
  /**
   * The escaping the value is safe for (`Box.safeFor`, kept when policy assigns a marked value);
   * declared only, so unmarked pairs carry no slot for it, and cleared when the value changes.
   */
  declare safeFor?: string;
  private _value: Value | undefined;
  /** Wire bytes for lazy decode (a subarray of the packet; no copy). */
  raw?: Buffer;
  /** Turns `raw` into a value on first access. */
  private _decode?: (da: DictAttr, raw: Buffer) => Value;

  constructor(readonly da: DictAttr, value?: Value) {
    this._value = value;
  }

  /** Makes a pair whose value is decoded from `raw` on first access. */
  static lazy(da: DictAttr, raw: Buffer, decode: (da: DictAttr, raw: Buffer) => Value): Pair {
    const p = new Pair(da);
    p.raw = raw;
    p._decode = decode;
    return p;
  }

  get value(): Value | undefined {
    if (this._value === undefined && this._decode) {
      this._value = this._decode(this.da, this.raw!);
      this._decode = undefined;
    }
    return this._value;
  }

  set value(v: Value | undefined) {
    this._value = v;
    this._decode = undefined;
    if (this.safeFor !== undefined) this.safeFor = undefined;
  }
}
