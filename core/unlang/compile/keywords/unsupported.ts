/** Keywords of FreeRADIUS v4 that are not implemented yet: a located compile error. */

import { CompileError } from '../errors';
import type { Keyword } from './keyword';

export const unsupportedKeyword: Keyword = {
  names: ['subrequest', 'call', 'detach', 'finally', 'map', 'caller'],
  section(cs) {
    throw new CompileError(cs.loc, `"${cs.name1}" is not supported`);
  },
};
