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
  validate: (c) => (/[*?]/.test(c.filename.replace(/[^/]*$/, '')) ? 'filename: wildcards are allowed in the last path component only' : undefined),
});
