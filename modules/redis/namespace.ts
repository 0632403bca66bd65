/**
 * `server <name> { namespace = redis }`: the virtual server FreeRADIUS v4's Redis connections name
 * with `virtual_server` (connection events). It has no processing sections and no listeners here:
 * our client's connection events are logged by the modules; a server of this namespace is
 * accepted so v4 configurations load, and an injected request gets no reply.
 */
import { Request, defineNamespace } from '../../core';

export const REDIS_NAMESPACE = defineNamespace({
  name: 'redis',
  sections: {},
  requestTypes: {},
  replyName: (code) => String(code),
  createProcess: (site) => ({
    process: (_packet, done) => {
      done(null);
      return undefined;
    },
    inject: (input, done) => {
      const request = new Request({ code: input.code, id: 0, dict: site.dict });
      done({ code: null, name: 'Do-Not-Respond', pairs: [], request });
      return undefined;
    },
  }),
});
