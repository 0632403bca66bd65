/**
 * Reads FreeRADIUS-format dictionary files (v3 and v4 syntax) into a
 * `Dictionary`. One loader instance handles one top-level `loadFile` /
 * `loadText` call, including every `$INCLUDE` it follows; forward references
 * (VALUE before ATTRIBUTE, ALIAS before its target, `enum=` before the
 * values exist) are resolved when that call finishes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DictAttr, valueKey } from './attr';
import { DictError } from './errors';
import {
  castValue, parseFlags, parseOid, parseType, parseUint, parseValueLiteral, tokenize,
  type Fail, type ParsedFlags, type TypeSpec,
} from './syntax';
import { DEFAULT_VENDOR_FORMAT, type AttrFlags, type DictLocation, type VendorFormat } from './types';
import type { DataType } from '../types/data-types';
import type { Dictionary, VendorDef } from './dictionary';

/** Layout of vendor attributes inside an RFC 6929 extended Vendor-Specific: 1-byte type, no length. */
export const EVS_VENDOR_FORMAT: VendorFormat = Object.freeze({ type: 1, length: 0, continuation: false }) as VendorFormat;

type FrameKind = 'file' | 'protocol' | 'vendor' | 'tlv' | 'begin';

interface Frame {
  kind: FrameKind;
  attr: DictAttr;
  /** Lower-case name used to open the frame (END matching). */
  name: string;
  /** Vendor name as written in BEGIN-VENDOR (flat alias prefix). */
  vendorName?: string;
  line: number;
}

interface Ctx {
  file: string;
  dir: string;
  line: number;
  stack: Frame[];
  /** Last attribute defined with a non-relative number: parent of `.N` numbers. */
  relative: DictAttr | null;
  /** Struct that MEMBER lines add to. */
  struct: DictAttr | null;
  /** MEMBER lines seen for `struct` in this definition (redefinition check). */
  memberCount: number;
  defaultInternal: boolean;
  fail: Fail;
}

interface Pending {
  loc: DictLocation;
  /** Scope attributes (innermost first) at the time of the statement. */
  scopes: DictAttr[];
}

interface PendingAlias extends Pending { name: string; target: string; scope: DictAttr; vendorName?: string }
interface PendingValue extends Pending { attrName: string; name: string; text: string }
interface PendingEnum extends Pending { attr: DictAttr; ref: string }

const STRUCTURAL = new Set<DataType>(['tlv', 'struct', 'vsa', 'vendor', 'group', 'union', 'root']);

/** Flags compared when an attribute is defined again: a difference is a conflict. */
const COMPARED_FLAGS: (keyof AttrFlags)[] = [
  'array', 'concat', 'hasTag', 'encrypt', 'extended', 'longExtended', 'length', 'bits', 'precision', 'subtype', 'key',
  'unionKey',
];

function locText(a: DictAttr): string {
  return a.loc ? ` at ${a.loc.file}[${a.loc.line}]` : '';
}

/** Loads one top-level file or text (and its includes) into a dictionary. */
export class DictLoader {
  private readonly aliases: PendingAlias[] = [];
  private readonly values: PendingValue[] = [];
  private readonly enums: PendingEnum[] = [];
  private readonly active = new Set<string>();

  constructor(private readonly dict: Dictionary) {}

  /** Load a file, or a directory's `dictionary` file, then resolve forward references. */
  loadPath(p: string): void {
    let file = p;
    try {
      if (fs.statSync(file).isDirectory()) file = path.join(file, 'dictionary');
    } catch {
      throw new DictError(p, 0, `cannot open dictionary: no such file or directory`);
    }
    this.includeFile(file, this.dict.root, undefined);
    this.finish();
  }

  /** Load dictionary text as if read from `file` (includes are relative to `dir`). */
  loadText(text: string, file: string, dir: string): void {
    this.processText(text, file, dir, this.dict.root);
    this.finish();
  }

  private includeFile(file: string, base: DictAttr, from: Ctx | undefined): void {
    const key = path.resolve(file);
    const fail = (msg: string): never => {
      if (from) throw new DictError(from.file, from.line, msg);
      throw new DictError(file, 0, msg);
    };
    if (this.active.has(key)) fail(`recursive $INCLUDE of '${file}'`);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return fail(`cannot read dictionary '${file}': ${code === 'ENOENT' ? 'no such file' : String(code ?? e)}`);
    }
    this.active.add(key);
    try {
      this.processText(text, file, path.dirname(file), base);
    } finally {
      this.active.delete(key);
    }
  }

  private processText(text: string, file: string, dir: string, base: DictAttr): void {
    const ctx: Ctx = {
      file, dir, line: 0,
      stack: [{ kind: 'file', attr: base, name: '', line: 0 }],
      relative: null, struct: null, memberCount: 0, defaultInternal: false,
      fail: (msg: string): never => { throw new DictError(file, ctx.line, msg); },
    };
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      ctx.line = i + 1;
      // Fast skip of blank and comment lines.
      const c = raw.charCodeAt(0);
      if (raw.length === 0 || c === 35 /* # */) continue;
      const toks = tokenize(raw);
      if (toks.length === 0) continue;
      this.statement(ctx, toks);
    }
    if (ctx.stack.length > 1) {
      const f = ctx.stack[ctx.stack.length - 1]!;
      ctx.line = lines.length;
      const what = f.kind === 'vendor' ? 'BEGIN-VENDOR' : f.kind === 'protocol' ? 'BEGIN PROTOCOL'
        : f.kind === 'tlv' ? 'BEGIN-TLV' : 'BEGIN';
      ctx.fail(`${what} ${f.name} (line ${f.line}) has no matching END at end of file`);
    }
  }

  private statement(ctx: Ctx, toks: string[]): void {
    const kw = toks[0]!.toUpperCase();
    const args = toks.slice(1);
    switch (kw) {
      case 'ATTRIBUTE': return this.attribute(ctx, args);
      case 'VALUE': return this.value(ctx, args);
      case 'MEMBER': return this.member(ctx, args);
      case 'ALIAS': return this.alias(ctx, args);
      case 'VENDOR': return this.vendorDecl(ctx, args);
      case 'BEGIN-VENDOR': return this.beginVendor(ctx, args);
      case 'END-VENDOR': return this.endVendor(ctx, args);
      case 'BEGIN-TLV': return this.beginScope(ctx, args, 'tlv');
      case 'END-TLV': return this.endScope(ctx, args, 'tlv');
      case 'BEGIN':
        if (args[0]?.toUpperCase() === 'PROTOCOL') return this.beginProtocol(ctx, args.slice(1));
        return this.beginScope(ctx, args, 'begin');
      case 'END':
        if (args[0]?.toUpperCase() === 'PROTOCOL') return this.endProtocol(ctx, args.slice(1));
        return this.endScope(ctx, args, 'begin');
      case 'BEGIN-PROTOCOL': return this.beginProtocol(ctx, args);
      case 'END-PROTOCOL': return this.endProtocol(ctx, args);
      case 'PROTOCOL': return this.protocolDecl(ctx, args);
      case 'FLAGS': return this.flagsDecl(ctx, args);
      case 'DEFINE': return this.defineDecl(ctx, args);
      case 'ENUM': return this.enumDecl(ctx, args);
      case 'STRUCT': return this.structDecl(ctx, args);
      case '$INCLUDE': case '$INCLUDE-': return this.include(ctx, args, kw === '$INCLUDE-');
      default:
        return ctx.fail(`unknown keyword '${toks[0]}'`);
    }
  }

  // ---------------------------------------------------------------- scopes

  private scope(ctx: Ctx): DictAttr {
    return ctx.stack[ctx.stack.length - 1]!.attr;
  }

  private scopes(ctx: Ctx): DictAttr[] {
    const out: DictAttr[] = [];
    if (ctx.struct) out.push(ctx.struct);
    if (ctx.relative) out.push(ctx.relative);
    for (let i = ctx.stack.length - 1; i >= 0; i--) out.push(ctx.stack[i]!.attr);
    return out;
  }

  private vendorFrameName(ctx: Ctx): string | undefined {
    const f = ctx.stack[ctx.stack.length - 1]!;
    return f.kind === 'vendor' ? f.vendorName : undefined;
  }

  private resetRelative(ctx: Ctx): void {
    ctx.relative = null;
    ctx.struct = null;
    ctx.memberCount = 0;
  }

  private beginProtocol(ctx: Ctx, args: string[]): void {
    const name = args[0];
    if (!name) ctx.fail('BEGIN PROTOCOL needs a protocol name');
    if (name.toLowerCase() !== this.dict.protocol.toLowerCase()) {
      ctx.fail(`protocol '${name}' does not match this dictionary's protocol '${this.dict.protocol}'`);
    }
    if (args[1] !== undefined) {
      const n = parseUint(args[1]);
      if (n === undefined) ctx.fail(`invalid protocol number '${args[1]}'`);
      if (n !== this.dict.protocolNumber) {
        ctx.fail(`protocol ${name} has number ${this.dict.protocolNumber}, not ${n}`);
      }
    }
    ctx.stack.push({ kind: 'protocol', attr: this.dict.root, name: name.toLowerCase(), line: ctx.line });
    this.resetRelative(ctx);
  }

  private endProtocol(ctx: Ctx, args: string[]): void {
    const top = ctx.stack[ctx.stack.length - 1]!;
    if (top.kind !== 'protocol') ctx.fail('END-PROTOCOL without a matching BEGIN PROTOCOL');
    if (args[0] !== undefined && args[0].toLowerCase() !== top.name) {
      ctx.fail(`END-PROTOCOL ${args[0]} does not match BEGIN PROTOCOL ${top.name} (line ${top.line})`);
    }
    ctx.stack.pop();
    this.resetRelative(ctx);
  }

  private protocolDecl(ctx: Ctx, args: string[]): void {
    if (args.length < 2) ctx.fail('PROTOCOL needs a name and a number');
    if (parseUint(args[1]!) === undefined) ctx.fail(`invalid protocol number '${args[1]}'`);
    // Declares a protocol; only this dictionary's protocol is loaded, so nothing to do.
  }

  private beginScope(ctx: Ctx, args: string[], kind: 'tlv' | 'begin'): void {
    const kw = kind === 'tlv' ? 'BEGIN-TLV' : 'BEGIN';
    if (args.length !== 1) ctx.fail(`${kw} needs exactly one attribute name`);
    const name = args[0]!;
    let target = this.findScoped(name, this.scope(ctx));
    if (!target && ctx.relative) target = this.dict.lookup(name, ctx.relative);
    if (!target) ctx.fail(`${kw} ${name}: unknown attribute`);
    if (!STRUCTURAL.has(target.type)) ctx.fail(`${kw} ${name}: '${target.fullName}' is of type ${target.type}, not a structural type`);
    ctx.stack.push({ kind, attr: target, name: name.toLowerCase(), line: ctx.line });
    this.resetRelative(ctx);
  }

  private endScope(ctx: Ctx, args: string[], kind: 'tlv' | 'begin'): void {
    const kw = kind === 'tlv' ? 'END-TLV' : 'END';
    const top = ctx.stack[ctx.stack.length - 1]!;
    if (top.kind !== kind) ctx.fail(`${kw} without a matching ${kind === 'tlv' ? 'BEGIN-TLV' : 'BEGIN'}`);
    if (args.length > 1) ctx.fail(`${kw} takes at most one attribute name`);
    if (args[0] !== undefined && args[0].toLowerCase() !== top.name) {
      const other = this.findScoped(args[0], ctx.stack[ctx.stack.length - 2]!.attr);
      if (other !== top.attr) ctx.fail(`${kw} ${args[0]} does not match ${kw.replace('END', 'BEGIN')} ${top.name} (line ${top.line})`);
    }
    ctx.stack.pop();
    this.resetRelative(ctx);
  }

  /** Name lookup from a scope, then from the protocol root. */
  private findScoped(name: string, scope: DictAttr): DictAttr | undefined {
    if (name.startsWith('.')) return this.dict.lookup(name, scope);
    return (scope !== this.dict.root ? this.dict.lookup(name, scope) : undefined) ?? this.dict.lookup(name, this.dict.root);
  }

  // ---------------------------------------------------------------- FLAGS / $INCLUDE

  private flagsDecl(ctx: Ctx, args: string[]): void {
    if (args.length === 0) ctx.fail('FLAGS needs at least one flag');
    for (const tok of args) {
      for (const f of tok.split(',')) {
        if (f === '') continue;
        const l = f.toLowerCase();
        if (l === 'internal') ctx.defaultInternal = true;
        else if (l === '!internal' || l === '-internal') ctx.defaultInternal = false;
        else ctx.fail(`unknown FLAGS value '${f}'`);
      }
    }
  }

  private include(ctx: Ctx, args: string[], optional: boolean): void {
    if (args.length !== 1) ctx.fail(`$INCLUDE needs exactly one file name`);
    const name = args[0]!;
    const full = path.isAbsolute(name) ? name : path.join(ctx.dir, name);
    const base = path.basename(full);
    if (/[*?]/.test(base)) {
      const dir = path.dirname(full);
      const re = new RegExp('^' + base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      let entries: string[];
      try {
        entries = fs.readdirSync(dir);
      } catch {
        if (optional) return;
        return ctx.fail(`cannot read directory '${dir}' for $INCLUDE ${name}`);
      }
      const matches = entries.filter((e) => re.test(e)).sort();
      if (matches.length === 0 && !optional) ctx.fail(`$INCLUDE ${name}: no matching files`);
      for (const m of matches) this.includeFile(path.join(dir, m), this.scope(ctx), ctx);
      return;
    }
    if (optional && !fs.existsSync(full)) return;
    this.includeFile(full, this.scope(ctx), ctx);
  }

  // ---------------------------------------------------------------- VENDOR

  private vendorDecl(ctx: Ctx, args: string[]): void {
    if (args.length < 2) ctx.fail('VENDOR needs a name and a number');
    const [name, idText, ...rest] = args as [string, string, ...string[]];
    const id = parseUint(idText);
    if (id === undefined || id > 0xffffffff) ctx.fail(`invalid vendor number '${idText}'`);
    let format: VendorFormat = DEFAULT_VENDOR_FORMAT;
    for (const tok of rest) {
      if (!tok.toLowerCase().startsWith('format=')) ctx.fail(`unknown VENDOR flag '${tok}'`);
      format = parseVendorFormat(tok.slice(7), ctx.fail);
    }
    const st = this.dict.state;
    const lower = name.toLowerCase();
    const byName = st.vendorsByName.get(lower);
    if (byName) {
      if (byName.id !== id) ctx.fail(`vendor '${name}' is already defined with number ${byName.id}`);
      if (!sameFormat(byName.format, format)) {
        ctx.fail(`vendor '${name}' is already defined with format=${formatText(byName.format)}`);
      }
      return;
    }
    const byId = st.vendorsById.get(id);
    if (byId) {
      // Another name for a known vendor number (e.g. Altiga / Cisco-VPN3000).
      byId.names.push(name);
      st.vendorsByName.set(lower, byId);
      for (const v of byId.attrs) {
        if (!v.parent!.byName.has(lower)) v.parent!.byName.set(lower, v);
      }
      return;
    }
    const def: VendorDef = { name, id, format, names: [name], attrs: [] };
    st.vendorsById.set(id, def);
    st.vendorsByName.set(lower, def);
    const vsa = this.dict.defaultVsa();
    if (vsa) this.materializeVendor(vsa, def, ctx.fail);
  }

  /** The `vendor` attribute for `def` under `vsa`, created on first use. */
  materializeVendor(vsa: DictAttr, def: VendorDef, fail: Fail): DictAttr {
    let v = vsa.children.get(def.id);
    if (v && v.type !== 'vendor') fail(`'${vsa.fullName}.${def.id}' is of type ${v.type}, so vendor ${def.name} cannot go there`);
    if (!v) {
      v = new DictAttr(def.name, def.id, 'vendor', vsa, vsa.flags.internal ? { internal: true } : {});
      v.format = vsa === this.dict.defaultVsa() ? def.format : EVS_VENDOR_FORMAT;
      vsa.children.set(def.id, v);
      def.attrs.push(v);
    }
    for (const n of def.names) {
      const l = n.toLowerCase();
      if (!vsa.byName.has(l)) vsa.byName.set(l, v);
    }
    return v;
  }

  private beginVendor(ctx: Ctx, args: string[]): void {
    if (args.length < 1) ctx.fail('BEGIN-VENDOR needs a vendor name');
    const [name, ...rest] = args as [string, ...string[]];
    const def = this.dict.state.vendorsByName.get(name.toLowerCase());
    if (!def) ctx.fail(`BEGIN-VENDOR ${name}: unknown vendor (no VENDOR line)`);
    let vsa: DictAttr | undefined;
    let ref: string | undefined;
    for (const tok of rest) {
      const l = tok.toLowerCase();
      if (l.startsWith('parent=')) {
        ref = tok.slice(7);
        vsa = this.findScoped(ref, this.scope(ctx));
      } else if (l.startsWith('format=')) {
        // v3: format=Extended-Vendor-Specific-N
        ref = tok.slice(7);
        vsa = this.dict.lookup(ref, this.dict.root);
      } else {
        ctx.fail(`unknown BEGIN-VENDOR flag '${tok}'`);
      }
      if (!vsa) ctx.fail(`BEGIN-VENDOR ${name}: unknown parent attribute '${ref}'`);
    }
    if (!vsa) {
      vsa = this.dict.defaultVsa();
      if (!vsa) ctx.fail(`BEGIN-VENDOR ${name}: no Vendor-Specific attribute is defined`);
    }
    if (vsa.type !== 'vsa') ctx.fail(`BEGIN-VENDOR ${name}: '${vsa.fullName}' is of type ${vsa.type}, not vsa`);
    const v = this.materializeVendor(vsa, def, ctx.fail);
    ctx.stack.push({ kind: 'vendor', attr: v, name: name.toLowerCase(), vendorName: name, line: ctx.line });
    this.resetRelative(ctx);
  }

  private endVendor(ctx: Ctx, args: string[]): void {
    const top = ctx.stack[ctx.stack.length - 1]!;
    if (top.kind !== 'vendor') ctx.fail('END-VENDOR without a matching BEGIN-VENDOR');
    if (args[0] !== undefined && args[0].toLowerCase() !== top.name) {
      const def = this.dict.state.vendorsByName.get(args[0].toLowerCase());
      if (!def || def.id !== top.attr.attr) {
        ctx.fail(`END-VENDOR ${args[0]} does not match BEGIN-VENDOR ${top.vendorName} (line ${top.line})`);
      }
    }
    ctx.stack.pop();
    this.resetRelative(ctx);
  }

  // ---------------------------------------------------------------- ATTRIBUTE / DEFINE / MEMBER

  private attribute(ctx: Ctx, args: string[]): void {
    if (args.length < 3) ctx.fail('Invalid ATTRIBUTE syntax');
    const [name, num, typeText, ...rest] = args as [string, string, string, ...string[]];
    checkName(name, ctx.fail);
    const oid = parseOid(num, ctx.fail);
    const spec = parseType(typeText, ctx.fail);
    const pf = parseFlags(rest, ctx.fail);
    let parent: DictAttr | null = oid.relative ? ctx.relative : this.scope(ctx);
    if (!parent) return ctx.fail(`relative number '${num}' but no preceding attribute to be relative to`);
    for (let i = 0; i < oid.parts.length - 1; i++) {
      const n = oid.parts[i]!;
      const next: DictAttr | undefined = this.dict.childAny(parent, n);
      if (!next) {
        const rest = oid.parts.slice(i).join('.');
        return ctx.fail(`Unknown attribute '${n}' in OID string "${rest}" for parent ${parent.type === 'root' ? this.dict.protocol : parent.name}`);
      }
      if (next.type === 'struct' && i === oid.parts.length - 2) {
        return ctx.fail(`Member ${name} of ATTRIBUTE ${next.name} type 'struct' MUST use the "MEMBER" keyword`);
      }
      parent = next;
    }
    const attr = this.define(ctx, name, oid.parts[oid.parts.length - 1]!, parent, spec, pf, false);
    if (!oid.relative) ctx.relative = attr;
    ctx.struct = attr.type === 'struct' ? attr : null;
    ctx.memberCount = 0;
  }

  /**
   * The checks FreeRADIUS's RADIUS protocol library makes on a new attribute: at most 253 octets,
   * `has_tag` only on integer or string attributes at the top level or in a VSA, `encrypt=` only
   * on the types that method can hide.
   */
  private checkProtocolFlags(name: string, parent: DictAttr, type: DataType, flags: AttrFlags, isDefine: boolean, fail: Fail): void {
    if (this.dict.protocolNumber !== 1 || isDefine || flags.internal) return;
    if (flags.length !== undefined && flags.length > 253 && (type === 'octets' || type === 'string')) {
      fail('Attributes cannot be more than 253 octets in length');
    }
    if (flags.hasTag) {
      if (type !== 'uint32' && type !== 'string') fail("The 'has_tag' flag can only be used for attributes of type 'integer' or 'string'");
      if (parent.type !== 'root' && parent.type !== 'vendor') fail("The 'has_tag' flag can only be used with RFC and VSA attributes");
    }
    const enc = flags.encrypt;
    if (enc !== undefined && enc !== 0 && STRUCTURAL.has(type)) {
      const method = enc === 1 ? 'User-Password' : enc === 2 ? 'Tunnel-Password' : 'Ascend-Send-Secret';
      fail(`The 'encrypt=${method}' flag can only be used with attributes of type 'string'`);
    }
  }

  private defineDecl(ctx: Ctx, args: string[]): void {
    if (args.length < 2) ctx.fail('DEFINE needs a name and a data type');
    const [name, typeText, ...rest] = args as [string, string, ...string[]];
    checkName(name, ctx.fail);
    const spec = parseType(typeText, ctx.fail);
    const pf = parseFlags(rest, ctx.fail);
    const attr = this.define(ctx, name, -1, this.scope(ctx), spec, pf, true);
    ctx.relative = attr;
    ctx.struct = attr.type === 'struct' ? attr : null;
    ctx.memberCount = 0;
  }

  private define(
    ctx: Ctx, name: string, number: number, parent: DictAttr, spec: TypeSpec, pf: ParsedFlags, isDefine: boolean,
  ): DictAttr {
    const fail: Fail = ctx.fail;
    const flags = pf.flags;
    let type: DataType | 'auto' = spec.type;
    if (spec.extended) flags.extended = true;
    if (spec.longExtended) flags.longExtended = true;
    if (spec.length !== undefined) flags.length = spec.length;
    if (spec.bits) flags.bits = true;
    if (pf.abinary) {
      if (type !== 'octets' && type !== 'string' && type !== 'abinary') fail(`'${name}': flag abinary needs type string or octets`);
      type = 'abinary';
    }
    if ((flags.extended || flags.longExtended) && type !== 'tlv') fail(`'${name}': extended flags need type tlv`);
    if (type === 'vendor') fail(`'${name}': vendor attributes are created with VENDOR, not ATTRIBUTE`);
    if (type === 'octets' && number === 26 && parent === this.dict.root && this.dict.protocolNumber === 1
      && name.toLowerCase() === 'vendor-specific') {
      // v3 declares Vendor-Specific as octets; it is the RFC 2865 VSA container.
      type = 'vsa';
    }
    if (flags.unionKey !== undefined) fail(`'${name}': key=<field> is only allowed on a union MEMBER`);
    if (ctx.defaultInternal || isDefine || parent.flags.internal) flags.internal = true;
    if (isDefine) flags.defined = true;
    if (!STRUCTURAL.has(parent.type)) {
      fail(`'${name}': parent '${parent.fullName}' is of type ${parent.type}, which cannot have children`);
    }
    if (!isDefine && parent === this.dict.root && number > 255 && this.dict.protocolNumber === 1) {
      // RADIUS wire numbers are 1..255; larger ones are server-internal (Packet-Type 1000 …).
      flags.internal = true;
    }
    if (!isDefine && parent.type === 'vendor' && !flags.internal && parent.format) {
      const max = parent.format.type === 1 ? 0xff : parent.format.type === 2 ? 0xffff : 0xffffffff;
      if (number > max) fail(`'${name}': number ${number} is too large for vendor ${parent.name} (format=${formatText(parent.format)})`);
    }
    let cloneSrc: DictAttr | undefined;
    if (flags.clone !== undefined) {
      const ref = flags.clone;
      cloneSrc = ref.startsWith('.') ? this.dict.lookup(ref, parent) : this.findScoped(ref, this.scope(ctx));
      if (!cloneSrc) fail(`'${name}': clone target '${ref}' not found`);
      if (type === 'auto') type = cloneSrc.type;
      else if (type !== cloneSrc.type) {
        fail(`'${name}': type ${type} differs from clone target '${cloneSrc.fullName}' (${cloneSrc.type})`);
      }
    }
    if (type === 'auto') fail(`'${name}': data type 'auto' needs clone=<attribute>`);
    this.checkProtocolFlags(name, parent, type, flags, isDefine, fail);
    if (flags.precision && type !== 'date' && type !== 'time_delta') fail(`'${name}': precision= needs type date or time_delta`);
    if (flags.subtype && type !== 'date' && type !== 'time_delta') fail(`'${name}': subtype= needs type date or time_delta`);

    const lower = name.toLowerCase();
    const existing = parent.byName.get(lower);
    if (existing) {
      if (existing.parent === parent && existing.name.toLowerCase() === lower
        && (isDefine ? existing.flags.defined === true : existing.attr === number)
        && existing.type === type && sameFlags(existing.flags, flags)) {
        return existing;
      }
      fail(`'${name}' is already defined${locText(existing)} as ${describe(existing)}`);
    }
    const internalMap = flags.internal && !parent.flags.internal;
    let skipNumber = false;
    if (isDefine) number = this.dict.state.nextDefineNumber++;
    else {
      const other = internalMap ? this.dict.state.internalByNum.get(parent)?.get(number) : parent.children.get(number);
      if (other && internalMap) {
        // Internal numbers never reach the wire; dictionaries of different origin reuse them
        // (RADIUS Packet-Type 1000 vs internal Stripped-User-Name 1000). Register by name only.
        skipNumber = true;
      } else if (other) {
        if (other.type === type) {
          // A second name for the same number (v3 dictionaries do this): an alias.
          parent.byName.set(lower, other);
          this.flatAliases(ctx, parent, name, other);
          return other;
        }
        fail(`'${name}': number ${number} is already used by '${other.fullName}'${locText(other)} of type ${other.type}`);
      }
    }
    const attr = new DictAttr(name, number, type, parent, flags);
    attr.loc = { file: ctx.file, line: ctx.line };
    if (!isDefine && !skipNumber) {
      if (internalMap) {
        let m = this.dict.state.internalByNum.get(parent);
        if (!m) this.dict.state.internalByNum.set(parent, (m = new Map()));
        m.set(number, attr);
      } else {
        parent.children.set(number, attr);
      }
    }
    parent.byName.set(lower, attr);
    if (type === 'struct') attr.members = [];
    if (cloneSrc) this.copyChildren(cloneSrc, attr);
    if (flags.enumRef !== undefined) this.enums.push({ attr, ref: flags.enumRef, loc: attr.loc, scopes: this.scopes(ctx) });
    this.flatAliases(ctx, parent, name, attr);
    if (type === 'vsa' && parent === this.dict.root && attr === this.dict.defaultVsa()) {
      for (const def of this.dict.state.vendorsById.values()) this.materializeVendor(attr, def, fail);
    }
    return attr;
  }

  /** v3 flat names for attributes directly inside a vendor: `AVPair` and `Cisco-AVPair`. */
  private flatAliases(ctx: Ctx, parent: DictAttr, name: string, attr: DictAttr): void {
    if (parent.type === 'vendor') {
      this.addFlat(name, attr, parent.name, this.vendorFrameName(ctx));
      return;
    }
    // v3 had one global name space. Keep its names reachable from the root where they are
    // unambiguous v3 spellings: children of the RFC 6929 extended attributes (Frag-Status,
    // Extended-Vendor-Specific-1) and nested vendor attributes named `<Vendor>-…` (WiMAX-Release).
    const flat = this.dict.state.flatAliases;
    const lower = name.toLowerCase();
    if (flat.has(lower)) return;
    if (parent.parent === this.dict.root && (parent.flags.extended || parent.flags.longExtended)) {
      flat.set(lower, attr);
      return;
    }
    for (let a: DictAttr | null = parent.parent; a; a = a.parent) {
      if (a.type === 'vendor') {
        const fv = this.vendorFrameName(ctx);
        if (lower.startsWith(a.name.toLowerCase() + '-') || (fv && lower.startsWith(fv.toLowerCase() + '-'))) flat.set(lower, attr);
        return;
      }
    }
  }

  /** Register `name` and `<vendor>-name` (for each vendor spelling) as flat aliases; first one wins. */
  private addFlat(name: string, attr: DictAttr, vendor: string, vendor2: string | undefined): void {
    const flat = this.dict.state.flatAliases;
    const lower = name.toLowerCase();
    if (!flat.has(lower)) flat.set(lower, attr);
    const p1 = vendor.toLowerCase() + '-';
    if (!lower.startsWith(p1)) {
      const a = p1 + lower;
      if (!flat.has(a)) flat.set(a, attr);
    }
    if (vendor2 !== undefined && vendor2 !== vendor) {
      const p2 = vendor2.toLowerCase() + '-';
      if (!lower.startsWith(p2)) {
        const a = p2 + lower;
        if (!flat.has(a)) flat.set(a, attr);
      }
    }
  }

  /** Deep copy of `src`'s children, members and values into `dst` (clone=). */
  private copyChildren(src: DictAttr, dst: DictAttr): void {
    if (src.values) dst.values = new Map(src.values);
    if (src.valueNames) dst.valueNames = new Map(src.valueNames);
    if (src.format) dst.format = src.format;
    const copy = (c: DictAttr): DictAttr => {
      const n = new DictAttr(c.name, c.attr, c.type, dst, { ...c.flags });
      n.loc = c.loc;
      if (n.type === 'union') this.dict.state.unions.push(n);
      this.copyChildren(c, n);
      return n;
    };
    const done = new Map<DictAttr, DictAttr>();
    const get = (c: DictAttr): DictAttr => {
      let n = done.get(c);
      if (!n) done.set(c, (n = copy(c)));
      return n;
    };
    for (const [num, c] of src.children) dst.children.set(num, get(c));
    const im = this.dict.state.internalByNum.get(src);
    if (im) {
      const m = new Map<number, DictAttr>();
      for (const [num, c] of im) m.set(num, get(c));
      this.dict.state.internalByNum.set(dst, m);
    }
    if (src.members) dst.members = src.members.map(get);
    for (const [n, c] of src.byName) {
      // Names of real children map to the copies; aliases to outside attributes stay as they are.
      dst.byName.set(n, c.parent === src ? get(c) : c);
    }
  }

  private member(ctx: Ctx, args: string[]): void {
    if (args.length < 2) ctx.fail('MEMBER needs a name and a data type');
    const struct = ctx.struct;
    if (!struct) return ctx.fail('MEMBER must follow an ATTRIBUTE of type struct');
    const [name, typeText, ...rest] = args as [string, string, ...string[]];
    checkName(name, ctx.fail);
    const spec = parseType(typeText, ctx.fail, true);
    if (spec.type === 'auto' || spec.extended || spec.longExtended || spec.type === 'vsa' || spec.type === 'vendor') {
      ctx.fail(`MEMBER ${name}: type ${typeText} is not allowed in a struct`);
    }
    const pf = parseFlags(rest, ctx.fail);
    const flags = pf.flags;
    let type: DataType = spec.type as DataType;
    if (pf.abinary) type = 'abinary';
    if (spec.length !== undefined) flags.length = spec.length;
    if (spec.bits) flags.bits = true;
    if (flags.unionKey !== undefined && type !== 'union') ctx.fail(`MEMBER ${name}: key=<field> needs type union`);
    if (type === 'union' && flags.unionKey === undefined) ctx.fail(`MEMBER ${name}: union member needs key=<field>`);
    if (ctx.defaultInternal || struct.flags.internal) flags.internal = true;
    const members = (struct.members ??= []);
    const index = ctx.memberCount;
    ctx.memberCount++;
    if (index < members.length) {
      // Struct defined again: members must match.
      const m = members[index]!;
      if (m.name.toLowerCase() !== name.toLowerCase() || m.type !== type || !sameFlags(m.flags, flags)) {
        ctx.fail(`MEMBER ${name} conflicts with member ${index + 1} '${m.name}'${locText(m)} of '${struct.fullName}'`);
      }
      if (type === 'tlv') ctx.relative = m;
      return;
    }
    const last = members[members.length - 1];
    if (last && (last.type === 'tlv' || last.type === 'union')) {
      ctx.fail(`MEMBER ${name}: no member may follow ${last.type} member '${last.name}'`);
    }
    if (flags.unionKey !== undefined) {
      const key = struct.byName.get(flags.unionKey.toLowerCase());
      if (!key || !key.flags.key) ctx.fail(`MEMBER ${name}: key=${flags.unionKey} is not a key member of '${struct.fullName}'`);
    }
    if (struct.byName.has(name.toLowerCase())) ctx.fail(`MEMBER ${name}: '${struct.fullName}' already has a member of that name`);
    const attr = new DictAttr(name, members.length + 1, type, struct, flags);
    attr.loc = { file: ctx.file, line: ctx.line };
    if (type === 'struct') attr.members = [];
    struct.children.set(attr.attr, attr);
    struct.byName.set(name.toLowerCase(), attr);
    members.push(attr);
    if (type === 'tlv') ctx.relative = attr;
    if (type === 'union') this.dict.state.unions.push(attr);
  }

  /**
   * Older v4 form of a keyed struct: `STRUCT name key-member value [flags]`
   * after a struct with a `key` member. Mapped onto the union model: the
   * struct goes under the union member keyed by that field (created as
   * `Data` when the struct has none), numbered by `value`.
   */
  private structDecl(ctx: Ctx, args: string[]): void {
    if (args.length < 3) ctx.fail('STRUCT needs a name, a key member and a key value');
    const [name, keyName, valueText, ...rest] = args as [string, string, string, ...string[]];
    checkName(name, ctx.fail);
    let key: DictAttr | undefined;
    // The key is a member of the current struct or of one enclosing it (a previous STRUCT).
    for (let a: DictAttr | null = ctx.struct; a && !key; a = a.parent) {
      if (a.type === 'struct') key = a.byName.get(keyName.toLowerCase());
    }
    key ??= this.findForValueNow(ctx, keyName);
    if (!key || !key.flags.key || !key.parent || key.parent.type !== 'struct') {
      return ctx.fail(`STRUCT ${name}: '${keyName}' is not a key member of a struct`);
    }
    const value = parseUint(valueText);
    if (value === undefined || value > 0xffffffff) ctx.fail(`STRUCT ${name}: invalid key value '${valueText}'`);
    const outer = key.parent;
    const members = (outer.members ??= []);
    let union = members.find((m) => m.type === 'union' && m.flags.unionKey?.toLowerCase() === key.name.toLowerCase());
    if (!union) {
      const last = members[members.length - 1];
      if (last && (last.type === 'tlv' || last.type === 'union')) {
        ctx.fail(`STRUCT ${name}: '${outer.fullName}' already ends with ${last.type} member '${last.name}'`);
      }
      let uname = 'Data';
      while (outer.byName.has(uname.toLowerCase())) uname = '_' + uname;
      union = new DictAttr(uname, members.length + 1, 'union', outer, {
        unionKey: key.name, ...(outer.flags.internal ? { internal: true } : {}),
      });
      union.loc = { file: ctx.file, line: ctx.line };
      outer.children.set(union.attr, union);
      outer.byName.set(uname.toLowerCase(), union);
      members.push(union);
      this.dict.state.unions.push(union);
    }
    const attr = this.define(ctx, name, value, union, { type: 'struct' }, parseFlags(rest, ctx.fail), false);
    ctx.relative = attr;
    ctx.struct = attr;
    ctx.memberCount = 0;
  }

  // ---------------------------------------------------------------- ENUM / VALUE / ALIAS

  private enumDecl(ctx: Ctx, args: string[]): void {
    if (args.length < 2) ctx.fail('ENUM needs a name and a data type');
    const [name, typeText, ...rest] = args as [string, string, ...string[]];
    checkName(name, ctx.fail);
    const spec = parseType(typeText, ctx.fail);
    if (spec.type === 'auto' || STRUCTURAL.has(spec.type)) ctx.fail(`ENUM ${name}: type ${typeText} cannot have values`);
    const pf = parseFlags(rest, ctx.fail);
    const lower = name.toLowerCase();
    const existing = this.dict.state.enums.get(lower);
    if (existing) {
      if (existing.type !== spec.type) ctx.fail(`ENUM ${name} is already defined${locText(existing)} with type ${existing.type}`);
      return;
    }
    const e = new DictAttr(name, 0, spec.type, this.dict.root, { ...pf.flags, internal: true });
    e.loc = { file: ctx.file, line: ctx.line };
    this.dict.state.enums.set(lower, e);
  }

  private value(ctx: Ctx, args: string[]): void {
    if (args.length !== 3) ctx.fail('VALUE needs an attribute name, a value name and a value');
    const [attrName, name, text] = args as [string, string, string];
    const attr = this.findForValueNow(ctx, attrName);
    if (!attr) {
      this.values.push({ attrName, name, text, loc: { file: ctx.file, line: ctx.line }, scopes: this.scopes(ctx) });
      return;
    }
    this.addValue(attr, name, text, ctx.fail, true);
  }

  /** `findForValue` with the current scopes, without allocating a scope list. */
  private findForValueNow(ctx: Ctx, attrName: string): DictAttr | undefined {
    const lower = attrName.toLowerCase();
    const check = (s: DictAttr | null): DictAttr | undefined => {
      if (!s) return undefined;
      if (s.type !== 'root' && s.name.toLowerCase() === lower) return s;
      return s.byName.get(lower);
    };
    const r = check(ctx.struct) ?? check(ctx.relative);
    if (r) return r;
    for (let i = ctx.stack.length - 1; i >= 0; i--) {
      const c = check(ctx.stack[i]!.attr);
      if (c) return c;
    }
    return this.dict.state.enums.get(lower) ?? this.dict.lookup(attrName, this.dict.root);
  }

  private findForValue(attrName: string, scopes: DictAttr[]): DictAttr | undefined {
    const lower = attrName.toLowerCase();
    for (const s of scopes) {
      if (s.name.toLowerCase() === lower && s.type !== 'root') return s;
      const c = s.byName.get(lower);
      if (c) return c;
    }
    return this.dict.state.enums.get(lower) ?? this.dict.lookup(attrName, this.dict.root);
  }

  /**
   * Add one VALUE. `precedence`: the name becomes the printed one for its value even when
   * another name was defined before (FreeRADIUS v4 does this for VALUE lines read in order:
   * `Tunnel-Medium-Type` prints `IPv4`, not `IP`). Deferred VALUEs (read before their
   * ATTRIBUTE, like `Service-Type Login` in dictionary.compat) never take precedence.
   */
  private addValue(attr: DictAttr, name: string, text: string, fail: Fail, precedence: boolean): void {
    if (STRUCTURAL.has(attr.type)) fail(`VALUE ${name}: '${attr.fullName}' is of type ${attr.type}, which has no values`);
    const v = parseValueLiteral(attr.type, text, (msg: string): never =>
      fail(`${msg}: Invalid VALUE '${text}' for attribute '${attr.name}' of data type '${attr.type}'`));
    const values = (attr.values ??= new Map());
    const names = (attr.valueNames ??= new Map());
    const lower = name.toLowerCase();
    const key = valueKey(v);
    const prev = values.get(lower);
    if (prev !== undefined) {
      if (valueKey(prev) === key) return;
      if (precedence) {
        // FreeRADIUS v4 refuses to give a name a second value.
        fail(`Duplicate VALUE name "${name}" for Attribute '${attr.name}'. Old value was "${String(prev)}", new value was "${text}"`);
      }
      // Deferred definitions (read before their ATTRIBUTE): the later one wins, as in v3.
    }
    values.set(lower, v);
    if (precedence || !names.has(key)) names.set(key, name);
  }

  private alias(ctx: Ctx, args: string[]): void {
    if (args.length !== 2) ctx.fail('ALIAS needs a name and a target');
    const [name, target] = args as [string, string];
    checkName(name, ctx.fail);
    const scope = this.scope(ctx);
    const p: PendingAlias = {
      name, target, scope, vendorName: this.vendorFrameName(ctx),
      loc: { file: ctx.file, line: ctx.line }, scopes: this.scopes(ctx),
    };
    const t = this.aliasTarget(p);
    if (!t) {
      this.aliases.push(p);
      return;
    }
    this.addAlias(p, t, ctx.fail);
  }

  private aliasTarget(p: PendingAlias): DictAttr | undefined {
    if (p.target.startsWith('.')) return this.dict.lookup(p.target, p.scope);
    for (const s of p.scopes) {
      if (s === this.dict.root) break;
      const r = this.dict.lookup(p.target, s);
      if (r) return r;
    }
    return this.dict.lookup(p.target, this.dict.root);
  }

  private addAlias(p: PendingAlias, target: DictAttr, fail: Fail): void {
    const lower = p.name.toLowerCase();
    const existing = p.scope.byName.get(lower);
    if (existing) {
      if (existing === target) return;
      fail(`ALIAS ${p.name}: name is already used by '${existing.fullName}'${locText(existing)}`);
    }
    p.scope.byName.set(lower, target);
    if (!this.dict.state.aliasNames.has(lower)) this.dict.state.aliasNames.set(lower, p.name);
    if (p.scope.type === 'vendor') this.addFlat(p.name, target, p.scope.name, p.vendorName);
  }

  // ---------------------------------------------------------------- finish

  private finish(): void {
    const failAt = (loc: DictLocation) => (msg: string): never => { throw new DictError(loc.file, loc.line, msg); };
    for (const p of this.aliases) {
      const fail: Fail = failAt(p.loc);
      const t = this.aliasTarget(p);
      if (!t) fail(`ALIAS ${p.name}: target '${p.target}' not found`);
      this.addAlias(p, t, fail);
    }
    for (const p of this.values) {
      const fail: Fail = failAt(p.loc);
      const attr = this.findForValue(p.attrName, p.scopes);
      if (!attr) fail(`Attribute '${p.attrName}' does not exist in dictionary "${this.dict.protocol}"`);
      this.addValue(attr, p.name, p.text, fail, false);
    }
    for (const p of this.enums) {
      const fail: Fail = failAt(p.loc);
      let ref = p.ref;
      if (ref.startsWith('@') && !ref.startsWith('@.')) continue; // another protocol: not loaded here
      if (ref.startsWith('@.')) ref = ref.slice(2);
      else if (ref.startsWith('.')) ref = ref.slice(1);
      const src = this.dict.state.enums.get(ref.toLowerCase()) ?? this.dict.lookup(ref, this.dict.root);
      if (!src) fail(`'${p.attr.name}': enum=${p.ref} not found`);
      copyValues(src, p.attr, fail);
    }
    for (const u of this.dict.state.unions) unionKeyValues(u);
    this.aliases.length = 0;
    this.values.length = 0;
    this.enums.length = 0;
    this.dict.state.resolveCache.clear();
  }
}

/**
 * A struct's `key` member gets one enumerated name per child of the union it
 * selects (`Key-Field = ::Sub-Struct` is 1 when `Sub-Struct` is union child 1).
 * VALUE lines for the key member keep precedence.
 */
function unionKeyValues(union: DictAttr): void {
  const key = union.parent?.byName.get(union.flags.unionKey?.toLowerCase() ?? '');
  if (!key || key.parent !== union.parent) return;
  for (const c of union.children.values()) {
    const v = castValue(c.attr, key.type);
    if (v === undefined) continue;
    const values = (key.values ??= new Map());
    const names = (key.valueNames ??= new Map());
    const lower = c.name.toLowerCase();
    if (!values.has(lower)) values.set(lower, v);
    const k = valueKey(v);
    if (!names.has(k)) names.set(k, c.name);
  }
}

function copyValues(src: DictAttr, dst: DictAttr, fail: Fail): void {
  if (!src.values) return;
  const values = (dst.values ??= new Map());
  const names = (dst.valueNames ??= new Map());
  // Canonical names first, so they stay canonical in the copy.
  if (src.valueNames) {
    for (const name of src.valueNames.values()) {
      const v = src.values.get(name.toLowerCase());
      if (v === undefined) continue;
      const c = castValue(v, dst.type);
      if (c === undefined) fail(`'${dst.name}': value ${name} of enum does not fit type ${dst.type}`);
      if (!values.has(name.toLowerCase())) values.set(name.toLowerCase(), c);
      const k = valueKey(c);
      if (!names.has(k)) names.set(k, name);
    }
  }
  for (const [lname, v] of src.values) {
    if (values.has(lname)) continue;
    const c = castValue(v, dst.type);
    if (c === undefined) fail(`'${dst.name}': value ${lname} of enum does not fit type ${dst.type}`);
    values.set(lname, c);
  }
}

/** Letters, digits and `_-/+:`; dots only inside (v3 names such as `WiMAX-802.1p`, found as whole names). */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_\-/+:.]*(?<!\.)$/;

function checkName(name: string, fail: Fail): void {
  if (NAME_RE.test(name)) {
    // `Attr-<number>` names are how unknown attributes print: reserved.
    if (/^Attr-[0-9]/i.test(name)) fail("Invalid name - 'Attr-' is an invalid name");
    return;
  }
  const bad = [...name].find((c) => !/[A-Za-z0-9_\-/+:.]/.test(c));
  fail(bad !== undefined ? `Invalid character '${bad}' in attribute name "${name}"` : `invalid attribute name '${name}'`);
}

function parseVendorFormat(text: string, fail: Fail): VendorFormat {
  const parts = text.split(',');
  if (parts.length < 2 || parts.length > 3) fail(`invalid vendor format '${text}': expected format=t,l[,c]`);
  const t = Number(parts[0]);
  const l = Number(parts[1]);
  if (t !== 1 && t !== 2 && t !== 4) fail(`invalid vendor format '${text}': type size must be 1, 2 or 4`);
  if (l !== 0 && l !== 1 && l !== 2) fail(`invalid vendor format '${text}': length size must be 0, 1 or 2`);
  let c = false;
  if (parts.length === 3) {
    if (parts[2]!.toLowerCase() !== 'c') fail(`invalid vendor format '${text}': third field must be 'c'`);
    if (t !== 1 || l !== 1) fail(`invalid vendor format '${text}': continuation needs format=1,1,c`);
    c = true;
  }
  return Object.freeze({ type: t, length: l, continuation: c }) as VendorFormat;
}

function sameFormat(a: VendorFormat, b: VendorFormat): boolean {
  return a.type === b.type && a.length === b.length && a.continuation === b.continuation;
}

function formatText(f: VendorFormat): string {
  return `${f.type},${f.length}${f.continuation ? ',c' : ''}`;
}

function sameFlags(a: AttrFlags, b: AttrFlags): boolean {
  for (const k of COMPARED_FLAGS) {
    const x = a[k] ?? false;
    const y = b[k] ?? false;
    if (x !== y && !((x === 0 || x === false) && (y === 0 || y === false))) return false;
  }
  return true;
}

function describe(a: DictAttr): string {
  return `${a.flags.defined ? 'DEFINE' : a.oid} ${a.type}`;
}
