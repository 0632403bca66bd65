/**
 * The `detail_reader` app (`app detail_reader [NAME] { … }`): replays spooled detail files through a
 * virtual server. See README.md.
 */
import { defineApp } from '../../core';
import { DetailReaderConfig } from './config';
import { DetailReader } from './reader';

export { DetailReader, globToRegExp, type DetailReaderStats } from './reader';
export { DetailReaderConfig } from './config';

export const detailReaderApp = defineApp({
  name: 'detail_reader',
  config: DetailReaderConfig,
  create: (config, ctx) => new DetailReader(config, ctx),
  validate: (c, ctx) => {
    if (/[*?]/.test(c.filename.replace(/[^/]*$/, ''))) return 'filename: wildcards are allowed in the last path component only';
    if (ctx.sites && !ctx.sites.has(c.site)) return `site: no virtual server "${c.site}" (one of ${[...ctx.sites].join(', ')})`;
    return undefined;
  },
});
