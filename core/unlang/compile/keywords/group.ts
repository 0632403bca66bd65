/** `group { }`: a nested block with its own action table. */

import type { Keyword } from './keyword';

export const groupKeyword: Keyword = {
  names: ['group'],
  section: (cs, ctx, c) => c.groupInstr(cs, ctx, 'group'),
};
