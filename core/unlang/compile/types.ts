/**
 * The compiled form of unlang: an immutable instruction tree plus the expression
 * and attribute-reference nodes it uses.
 *
 * Everything here is produced by `compiler.ts` and only read by the interpreter.
 * Nodes are plain objects discriminated by `k` so the interpreter can switch on
 * them without virtual calls.
 */

import type { DictAttr } from '../../dict/attr';
import type { ConfLoc } from '../../config/ast';
import type { ModuleMapMethod, ModuleMethod } from '../module-call';
import type { VirtualServers } from '../servers';
import type { ListName } from '../../request/request';
import type { Actions, RetryConfig } from '../rcode';
import type { ArithOp, Box, BoxType, CmpOp } from '../xlat/box';
import type { XlatFunc } from '../xlat/registry';

/** Index constants for attribute references (`[n]` `[*]` `[#]`; none = first). */
export const enum Idx {
  NONE = -1, LAST = -2, ALL = -3, COUNT = -4,
}

/** An index: a fixed position (≥ 0), one of {@link Idx}, or an expression evaluated at run time. */
export type Index = number | Expr;

/** One step of an attribute reference: an attribute and its index. */
export interface RefSeg {
  readonly da: DictAttr;
  readonly idx: Index;
}

/**
 * An attribute reference: `[parent.]…[list.]Attr[idx].Child[idx]`, or a list
 * (`request`, `control.[*]`) when `segs` is empty.
 */
export interface AttrRef {
  /** The list the path starts in (`local` for local variables). */
  readonly list: ListName;
  /** How many `parent.` / `outer.` hops. */
  readonly up: number;
  /** The path; empty for a list reference. */
  readonly segs: readonly RefSeg[];
  /**
   * Index on the children: of the list when `segs` is empty (`control.[0]`, `request.[*]`), or of the
   * selected structural attribute otherwise (`Tmp-Group-0.[*]`).
   */
  readonly listIdx?: Index;
  /** The source text (used as the `key` in `foreach key, value`). */
  readonly text: string;
  /** True when the text named a list, `parent.`/`outer.`, or a local variable (not relative). */
  readonly qualified?: boolean;
}

/** Expression nodes. `t` is the static result type when known at compile time. */
export type Expr =
  | { readonly k: 'lit'; readonly box: Box; readonly raw?: string; readonly t?: BoxType }
  | { readonly k: 'str'; readonly parts: readonly (string | Expr)[]; readonly t?: BoxType; /** Source text (the -X trace's EXPAND line). */ readonly raw?: string }
  | { readonly k: 'ref'; readonly ref: AttrRef; readonly t?: BoxType; readonly da?: DictAttr }
  | { readonly k: 'exists'; readonly ref: AttrRef; readonly t?: BoxType }
  | { readonly k: 'call'; readonly name: string; readonly fn: XlatFunc; readonly args: readonly Expr[]; readonly t?: BoxType }
  | { readonly k: 'not'; readonly a: Expr; readonly t?: BoxType }
  | { readonly k: 'neg' | 'inv'; readonly a: Expr; readonly t?: BoxType }
  | { readonly k: 'bin'; readonly op: ArithOp; readonly a: Expr; readonly b: Expr; readonly t?: BoxType }
  | { readonly k: 'cmp'; readonly op: CmpOp; readonly a: Expr; readonly b: Expr; readonly t?: BoxType }
  | { readonly k: 'and' | 'or'; readonly a: Expr; readonly b: Expr; readonly t?: BoxType }
  | { readonly k: 'cast'; readonly type: BoxType; readonly a: Expr; readonly t?: BoxType }
  | { readonly k: 'rcode'; readonly r: number; readonly t?: BoxType }
  | { readonly k: 'regex'; readonly neg: boolean; readonly a: Expr; readonly re?: RegExp; readonly parts?: readonly (string | Expr)[]; readonly flags: string; readonly t?: BoxType }
  | { readonly k: 'capture'; readonly n: number; readonly t?: BoxType };

/** Fields every instruction has. */
export interface InstrBase {
  /** Name shown in the debug trace (`if (User-Name == "bob")`, `ldap`, `group`). */
  readonly name: string;
  readonly loc: ConfLoc;
  /** What each rcode does when this instruction returns it to its frame. */
  readonly actions: Actions;
  /** Retry settings when any action is `retry`. */
  readonly retry?: RetryConfig;
}

/** A sibling list with its local variable declarations. */
export interface Block {
  readonly children: readonly Instr[];
  /** Local variables declared at the top of the block (cleared on entry and exit). */
  readonly locals?: readonly DictAttr[];
}

/** A value source on the right of an edit. */
export type EditRhs =
  | { readonly k: 'expr'; readonly e: Expr }
  | { readonly k: 'values'; readonly items: readonly Expr[] }
  | { readonly k: 'pairs'; readonly items: readonly PairTemplate[] }
  | { readonly k: 'empty' }
  | { readonly k: 'text'; readonly e: Expr };

/** One `Attr op value` line inside an edit block (`reply += { Reply-Message = "x" }`). */
export interface PairTemplate {
  readonly da: DictAttr;
  /** Intermediate attributes from the list down to `da` (for `Vendor-Specific.Cisco.AVPair = …`). */
  readonly path: readonly DictAttr[];
  readonly op: string;
  readonly rhs: EditRhs;
  readonly loc: ConfLoc;
}

/** The instruction set. */
export type Instr =
  | (InstrBase & { readonly k: 'group'; readonly body: Block; readonly returnPoint?: boolean; readonly policy?: boolean })
  | (InstrBase & { readonly k: 'rcode'; readonly r: number })
  | (InstrBase & { readonly k: 'module'; readonly instance: string; readonly method?: string; readonly fn: ModuleMethod })
  | (InstrBase & { readonly k: 'if'; readonly cond: Expr; readonly then: Block; readonly else?: Instr })
  | (InstrBase & { readonly k: 'switch'; readonly subject: Expr; readonly type?: BoxType; readonly cases: ReadonlyMap<string | number, Block>; readonly caseList: readonly { box: Box; body: Block }[]; readonly def?: Block })
  | (InstrBase & { readonly k: 'foreach'; readonly source: Expr; readonly ref?: AttrRef; readonly varDa: DictAttr; readonly keyDa?: DictAttr; readonly body: Block })
  | (InstrBase & { readonly k: 'break' | 'continue' | 'return' })
  | (InstrBase & { readonly k: 'redundant'; readonly children: readonly Instr[]; readonly locals?: readonly DictAttr[] })
  | (InstrBase & { readonly k: 'load-balance'; readonly key?: Expr; readonly children: readonly Instr[]; readonly redundant: boolean })
  | (InstrBase & { readonly k: 'parallel'; readonly children: readonly Instr[]; readonly mode: 'clone' | 'empty' | 'detach' })
  | (InstrBase & { readonly k: 'timeout'; readonly dur: Expr; readonly body: Block })
  | (InstrBase & { readonly k: 'limit'; readonly max: Expr; readonly body: Block; readonly state: { active: number } })
  | (InstrBase & { readonly k: 'try'; readonly body: Block; readonly catches: readonly (Block | undefined)[]; readonly catchAll?: Block })
  | (InstrBase & { readonly k: 'transaction'; readonly body: Block })
  | (InstrBase & { readonly k: 'edit'; readonly lhs: AttrRef; readonly lhsList: boolean; readonly lhsType?: BoxType; readonly op: string; readonly rhs: EditRhs })
  | (InstrBase & { readonly k: 'xlat'; readonly e: Expr })
  | (InstrBase & { readonly k: 'subrequest'; readonly code: number; readonly body: Block })
  | (InstrBase & { readonly k: 'detach' })
  | (InstrBase & { readonly k: 'call'; readonly server: string; readonly servers: VirtualServers; readonly body: Block })
  | (InstrBase & { readonly k: 'caller'; readonly protocol: string; readonly body: Block })
  | (InstrBase & { readonly k: 'map'; readonly instance: string; readonly map: ModuleMapMethod; readonly escape?: (value: string) => string; readonly query?: Expr; readonly entries: readonly MapEntry[];
    /** `map list <expression> { attr op <index> }` (FreeRADIUS's built-in list map): field N is the N-th value. */
    readonly list?: boolean });

/** One `attr op 'field'` line of a `map` section. */
export interface MapEntry {
  readonly lhs: AttrRef;
  readonly lhsType?: BoxType;
  readonly op: string;
  /** The field name: a literal, or an expansion evaluated at run time. */
  readonly field: Expr;
  readonly name: string;
  readonly loc: ConfLoc;
}

/** A compiled processing section, ready for the interpreter. */
export interface CompiledSection {
  /** `recv Access-Request` etc. */
  readonly name1: string;
  readonly name2?: string;
  /** The section body; its frame is the top return point. */
  readonly body: Block;
  readonly loc: ConfLoc;
  /** Default action table of the section. */
  readonly actions: Actions;
}
