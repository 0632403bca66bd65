/** `finally` is a virtual-server section (beside recv/send), not a statement. */

import { CompileError } from '../errors';
import type { Keyword } from './keyword';

export const finallyKeyword: Keyword = {
  names: ['finally'],
  section(cs) {
    throw new CompileError(cs.loc, '"finally" is a virtual server section, not a statement inside a block');
  },
};
