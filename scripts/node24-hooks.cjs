'use strict';
// node24-hooks.cjs: preloaded (NODE_OPTIONS=--require) into every Node process of the Node 24 test run
// (scripts/node24.sh). The project's node_modules holds better-sqlite3 built for the installed Node 20; its
// addon is not N-API, so Node 24 cannot load it. This hook sends every `better-sqlite3` import, CommonJS or
// ESM, to the copy that scripts/node24.sh built for Node 24. Our own addons are N-API and load as they are.
const path = require('node:path');
const mod = require('node:module');

const dir = process.env.TSRADIUS_NODE24_MODULES;
if (dir && typeof mod.registerHooks === 'function') {
  // Any resolution that lands in the shared tree's better-sqlite3 (a bare import, the absolute path vitest's
  // module runner uses, or the addon that `bindings` requires) is moved to the same file in the Node 24 copy.
  const { pathToFileURL } = require('node:url');
  const from = pathToFileURL(path.resolve(__dirname, '..', 'node_modules', 'better-sqlite3')).href + '/';
  const to = pathToFileURL(path.join(dir, 'better-sqlite3')).href + '/';
  mod.registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      if (r.url.startsWith(from)) return { ...r, url: to + r.url.slice(from.length) };
      return r;
    },
  });
}
