import { defineModule } from '../../core';
import { AttrFilterConfig } from './config';
import { AttrFilter, ATTR_FILTER_ENV, validateAttrFilter } from './attr_filter';

/** `attr_filter`: removes attributes that the filter rules for the key do not allow. */
export default defineModule({
  name: 'attr_filter',
  kind: 'rlm',
  summary: 'Filters the request (recv) or reply (send) list against per-key rules in a users-style file.',
  config: AttrFilterConfig,
  validate: validateAttrFilter,
  impl: AttrFilter,
  methods: { 'send *': 'filterReply', '* *': 'filterRequest' },
  named: {
    authorize: 'filterRequest', accounting: 'filterRequest', pre_proxy: 'filterRequest', request: 'filterRequest',
    post_auth: 'filterReply', post_proxy: 'filterReply', reply: 'filterReply',
  },
  env: {
    filterRequest: ATTR_FILTER_ENV,
    filterReply: ATTR_FILTER_ENV,
  },
});
