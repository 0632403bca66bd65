/**
 * The keyword table: every unlang keyword, listed explicitly (one file per
 * keyword). The compiler looks a statement's first word up here first.
 */

import { balanceKeyword } from './balance';
import { callKeyword } from './call';
import { callerKeyword } from './caller';
import { finallyKeyword } from './finally';
import { flowKeyword } from './flow';
import { foreachKeyword } from './foreach';
import { groupKeyword } from './group';
import { ifKeyword } from './if';
import { mapKeyword } from './map';
import type { Keyword } from './keyword';
import { parallelKeyword } from './parallel';
import { subrequestKeyword } from './subrequest';
import { switchKeyword } from './switch';
import { timeoutKeyword } from './timeout';
import { transactionKeyword } from './transaction';
import { tryKeyword } from './try';
import { updateKeyword } from './update';

export type { BlockCursor, Keyword } from './keyword';

/**
 * Reserved words that are not instructions by themselves: `actions` (the last item of a block, handled by
 * the block compiler) and `policy`. As a bare word they need a section body; as a section they are
 * resolved like any other name (a policy or module of that name).
 */
const reserved: Keyword = { names: ['actions', 'policy'] };

const ALL: readonly Keyword[] = [
  ifKeyword, switchKeyword, foreachKeyword, groupKeyword, balanceKeyword, parallelKeyword, timeoutKeyword,
  tryKeyword, transactionKeyword, flowKeyword, updateKeyword, subrequestKeyword, callKeyword, callerKeyword,
  mapKeyword, finallyKeyword, reserved,
];

export const KEYWORDS: ReadonlyMap<string, Keyword> = new Map(ALL.flatMap((k) => k.names.map((n) => [n, k] as const)));
