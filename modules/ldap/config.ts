/**
 * Config schema of the `ldap` module, shaped like FreeRADIUS's `raddb/mods-available/ldap`
 * (`server`, `identity`, `password`, `base_dn`, `update { }`, `user { }`, `group { }`,
 * `profile { }`, `options { }`, `tls { }`, `pool { }`, `bind_pool { }`). Items FreeRADIUS has
 * and this module does not implement are refused by the schema (unknown item), so a config
 * never silently means less than it says. See README.md.
 */
import { conf } from '../../core';

const SCOPES = ['base', 'one', 'sub', 'children'] as const;

/** FreeRADIUS v4 (and 3.2) connection-pool items this module's trunks do not use (accepted with a warning, see validate.ts). */
const UNUSED_POOL = {
  spare: conf.integer({ doc: 'FreeRADIUS 3.2 item; no effect here (warning).' }),
  uses: conf.integer({ doc: 'FreeRADIUS item (connection reuse limit); no effect here (warning).' }),
  lifetime: conf.duration({ doc: 'FreeRADIUS item (connection lifetime); no effect here (warning).' }),
  idle_timeout: conf.duration({ doc: 'FreeRADIUS item; no effect here (warning).' }),
  retry_delay: conf.duration({ doc: 'FreeRADIUS 3.2 item; use `options { reconnection_delay }` (warning).' }),
  connecting: conf.integer({ doc: 'FreeRADIUS v4 trunk item; no effect here (warning).' }),
  open_delay: conf.duration({ doc: 'FreeRADIUS v4 trunk item; no effect here (warning).' }),
  close_delay: conf.duration({ doc: 'FreeRADIUS v4 trunk item; no effect here (warning).' }),
  manage_interval: conf.duration({ doc: 'FreeRADIUS v4 trunk item; no effect here (warning).' }),
  connection: conf.raw({ doc: 'FreeRADIUS v4 `connection { connect_timeout reconnect_delay }`; here `options { net_timeout reconnection_delay }` (warning).' }),
  request: conf.raw({ doc: 'FreeRADIUS v4 `request { per_connection_max … }`; here `per_connection_max` in this section (warning).' }),
} as const;

/** Names of {@link UNUSED_POOL} (validate.ts warns about each one written). */
export const UNUSED_POOL_ITEMS = Object.keys(UNUSED_POOL);

/** `sasl { }` (admin and user binds): the admin bind may be SASL EXTERNAL; other mechanisms are not implemented (a warning). */
const Sasl = conf.subsection({
  mech: conf.string({ doc: 'SASL mechanism (not implemented: a warning; binds stay simple binds).' }),
  proxy: conf.string({ doc: 'SASL authorisation identity (with mech).' }),
  realm: conf.string({ doc: 'SASL realm (with mech).' }),
  authname: conf.string({ doc: 'SASL authentication identity (with mech, user binds).' }),
}, { optional: true, doc: 'FreeRADIUS `sasl { }`: at the top level `mech = EXTERNAL` makes the admin bind a SASL EXTERNAL bind (e.g. over ldapi://); other mechanisms, and SASL user binds, are not implemented (a located warning).' });

/** Trunk items shared by `pool { }` and `bind_pool { }`. */
function pool(d: { start: number; min: number; max: number; perConn: number }, doc: string) {
  return conf.subsection({
    ...UNUSED_POOL,
    start: conf.integer({ default: d.start, min: 0, max: 1024, doc: 'Connections opened at start, per server.' }),
    min: conf.integer({ default: d.min, min: 0, max: 1024, doc: 'Connections kept open per server (reopened when they fail).' }),
    max: conf.integer({ default: d.max, min: 1, max: 1024, doc: 'Most connections per server.' }),
    per_connection_max: conf.integer({ default: d.perConn, min: 1, max: 65535, doc: 'Operations in flight per connection (LDAP multiplexes message IDs; a bind connection carries one bind at a time).' }),
    max_backlog: conf.integer({ default: 1000, min: 0, max: 1 << 20, doc: 'Operations queued while every connection is full or opening (0 = fail at once).' }),
  }, { doc });
}

/** `ldap [instance] { … }` */
export const LdapConfig = conf.section({
  server: conf.list(conf.string(), {
    min: 1,
    doc: 'A host name, an `ldap://host[:port]` / `ldaps://host[:port]` URI or `ldapi://<percent-encoded socket path>`. Repeat for fail-over or load sharing (see server_selection).',
  }),
  server_selection: conf.enum(['failback', 'sticky', 'round_robin'] as const, {
    default: 'failback',
    doc: 'How an operation picks among several `server` items that are alive. failback: the first in order (a recovered earlier server takes over again). sticky: the one in use until it fails, then the next one exclusively until that fails. round_robin: each operation the next one in turn. In every mode an operation that fails on one server is retried on the others.',
  }),
  port: conf.integer({ default: 389, min: 1, max: 65535, doc: 'Port for `server` items without one (636 is the default for ldaps://).' }),
  identity: conf.string({ default: '', doc: 'DN of the administrative bind for searches (empty: anonymous).' }),
  password: conf.string({ default: '', secret: true, doc: 'Password of `identity` (never logged).' }),
  base_dn: conf.string({ default: '', doc: 'Default search base; `user`, `group` and `profile` refer to it as `${..base_dn}`.' }),
  sasl: Sasl,
  accounting: conf.raw({ doc: '`accounting { <status> { update { <ldapAttr> <op> <value> … } } … }`: LDAP modifications of the user object on accounting (see Modifications).' }),
  send: conf.raw({ doc: '`send { <packet> { update { <ldapAttr> <op> <value> … } } }`: LDAP modifications of the user object when a reply is sent, e.g. after an Access-Accept (see Modifications).' }),
  valuepair_attribute: conf.string({ doc: 'An LDAP attribute whose values are whole `Attr op value` items (applied to the request like `update` items with only a list on the left).' }),
  update: conf.raw({ doc: '`update { <list>.<Attr> <op> \'ldapAttr\' … }`: maps LDAP attributes of the user and profile objects to RADIUS attributes (`:=`, `=`, `+=`, `-=`, `^=`). A bare list on the left (`reply += \'radiusReplyAttribute\'`) parses the values as `Attr op value` items.' }),
  user: conf.subsection({
    base_dn: conf.tmpl({ default: '', doc: 'Search base for users (expanded per request; expanded values are DN-escaped).' }),
    filter: conf.tmpl({ default: '(uid=%{Stripped-User-Name || User-Name})', doc: 'Search filter (expanded per request; every expanded value is filter-escaped, RFC 4515).' }),
    scope: conf.enum(SCOPES, { default: 'sub', doc: 'Search scope.' }),
    access_attribute: conf.string({ doc: 'Attribute deciding whether the user may log in (see access_positive).' }),
    access_positive: conf.boolean({ default: true, doc: 'yes: access_attribute must be present (and not equal to access_value_negate); no: its presence denies.' }),
    access_value_negate: conf.string({ default: 'false', doc: 'With access_positive, this value of access_attribute denies.' }),
    access_value_suspend: conf.string({ default: 'suspended', doc: 'This value of access_attribute marks the user suspended (profile_attribute_suspend applies).' }),
    profile_attribute: conf.string({ doc: 'Attribute of the user object holding profile DNs, applied after the default profile.' }),
    profile_attribute_suspend: conf.string({ doc: 'As profile_attribute, for suspended users.' }),
    sasl: Sasl,
  }),
  group: conf.subsection({
    base_dn: conf.tmpl({ default: '', doc: 'Search base for group objects.' }),
    filter: conf.string({ default: '(objectClass=groupOfNames)', doc: 'Restricts what counts as a group object (combined with membership_filter).' }),
    scope: conf.enum(SCOPES, { default: 'sub', doc: 'Search scope for groups.' }),
    name_attribute: conf.string({ default: 'cn', doc: 'The attribute naming a group.' }),
    membership_filter: conf.tmpl({ doc: 'Finds the group objects holding the user, e.g. `(|(member=%{control.LDAP-UserDN})(memberUid=%{User-Name}))` (values filter-escaped).' }),
    membership_attribute: conf.string({ doc: 'Attribute of the user object listing its groups (DNs or names), e.g. memberOf.' }),
    cacheable_name: conf.boolean({ default: false, doc: 'After authorize, add every group name to the control list (cache_attribute).' }),
    cacheable_dn: conf.boolean({ default: false, doc: 'After authorize, add every group DN to the control list (cache_attribute).' }),
    cache_attribute: conf.string({ default: 'LDAP-Group', doc: 'Control attribute holding the cached groups (a string attribute; defined when the dictionary lacks it, as FreeRADIUS does).' }),
    profile_attribute: conf.string({ doc: 'Attribute of group objects naming profiles: the profiles of the groups holding the user (membership_filter) are applied after the user\'s own.' }),
  }),
  profile: conf.subsection({
    filter: conf.string({ default: '(objectClass=*)', doc: 'Filter a profile object must match.' }),
    default: conf.tmpl({ doc: 'DN of the profile applied to every user (before the user\'s own profiles).' }),
    scope: conf.enum(SCOPES, { default: 'base', doc: 'Scope of the search for each profile DN: `base` the entry itself; `sub`/`one` also its descendants (nested profiles, applied in sort_by order).' }),
    search_mode: conf.enum(['seq', 'bulk', 'auto'] as const, { default: 'auto', doc: '`seq`: one search per profile DN, in order (default, then the user\'s, then its groups\'); `bulk`: one search for all of them (`entryDN` filter under base_dn), applied in sort_by order; `auto`: bulk when scope is base and sort_by is set, else seq.' }),
    sort_by: conf.string({ doc: 'Attribute ordering the profiles a search returns (integers numerically, other values as text; entries without it last, in directory order).' }),
    check_attribute: conf.string({ doc: 'Attribute of a profile holding a condition (`User-Name == \'bob\'`): the profile applies only when it is true.' }),
    fallthrough_attribute: conf.string({ doc: 'Attribute of a profile holding a condition evaluated after applying it: when false, no further profile is applied.' }),
    child_rdn: conf.tmpl({ doc: 'RDN of a child entry of each profile (`cn=%{Connect-Info}`), applied after it when it exists (a specialisation); an RDN with an empty value names none.' }),
  }),
  read_clients: conf.boolean({ default: false, doc: 'Read RADIUS clients from the directory at start-up (see client { }); start-up fails when they cannot be read.' }),
  client: conf.subsection({
    base_dn: conf.string({ default: '', doc: 'Search base for client objects (default: base_dn).' }),
    filter: conf.string({ default: '(objectClass=radiusClient)', doc: 'Filter a client object must match.' }),
    scope: conf.enum(SCOPES, { default: 'sub', doc: 'Search scope for clients.' }),
    attribute: conf.subsection({
      ipaddr: conf.string({ default: 'radiusClientIdentifier', doc: 'LDAP attribute holding the client address or network (required on the object).' }),
      secret: conf.string({ default: 'radiusClientSecret', doc: 'LDAP attribute holding the shared secret (required on the object).' }),
      shortname: conf.string({ default: 'radiusClientShortname', doc: 'LDAP attribute holding the short name.' }),
      nas_type: conf.string({ default: 'radiusClientType', doc: 'LDAP attribute holding the NAS type.' }),
      require_message_authenticator: conf.string({ default: 'radiusClientRequireMa', doc: 'LDAP attribute holding require_message_authenticator (TRUE/FALSE, yes/no/auto).' }),
    }),
  }),
  options: conf.subsection({
    net_timeout: conf.duration({ default: 10, min: '10ms', max: 300, doc: 'Connecting (TCP, TLS, StartTLS and the admin bind) must finish within this.' }),
    res_timeout: conf.duration({ default: 20, min: '10ms', max: 300, doc: 'Per-operation timeout: an operation without a result is abandoned (LDAP Abandon) and, time permitting, retried on another server; its connection becomes a zombie when nothing else arrived either.' }),
    srv_timelimit: conf.integer({ default: 20, min: 0, max: 3600, doc: 'Server-side time limit of searches (seconds; 0 = none).' }),
    timelimit: conf.integer({ min: 0, max: 3600, doc: 'FreeRADIUS v4 name of srv_timelimit (wins when both are set).' }),
    chase_referrals: conf.boolean({ doc: 'FreeRADIUS item; referrals are not followed here (`yes` gives a warning).' }),
    rebind: conf.boolean({ doc: 'FreeRADIUS item (bind again when following a referral); see chase_referrals.' }),
    referral_depth: conf.integer({ min: 0, doc: 'FreeRADIUS item; see chase_referrals.' }),
    idle: conf.integer({ min: 0, doc: 'FreeRADIUS TCP keepalive idle seconds; the system\'s value is used (a warning).' }),
    probes: conf.integer({ min: 0, doc: 'FreeRADIUS TCP keepalive probe count; the system\'s value is used (a warning).' }),
    interval: conf.integer({ min: 0, doc: 'FreeRADIUS TCP keepalive interval; the system\'s value is used (a warning).' }),
    reconnection_delay: conf.duration({ default: 10, min: 0, max: 3600, doc: 'Wait this long before reopening a failed connection.' }),
    instantiate_timeout: conf.duration({ default: 3, min: 0, max: 300, doc: 'Start-up waits at most this long for a first connection; without one the server starts anyway, reports it, and calls fail fast until a server answers.' }),
    dereference: conf.enum(['never', 'searching', 'finding', 'always'] as const, { default: 'never', doc: 'Alias dereferencing of searches.' }),
  }),
  tls: conf.subsection({
    start_tls: conf.boolean({ default: false, doc: 'Upgrade `ldap://` connections with StartTLS before binding.' }),
    ca_file: conf.string({ doc: 'PEM file of the CA(s) that sign the servers\' certificates (default: the system store).' }),
    certificate_file: conf.string({ doc: 'Client certificate (PEM), when the server asks for one.' }),
    private_key_file: conf.string({ doc: 'Key of certificate_file.' }),
    require_cert: conf.enum(['never', 'allow', 'demand', 'hard'] as const, { default: 'demand', doc: 'demand/hard: the server certificate must verify against ca_file and name the host; allow/never: not verified (discouraged).' }),
  }),
  pool: pool({ start: 1, min: 1, max: 4, perConn: 256 }, 'Connections for searches, bound as `identity`.'),
  bind_pool: pool({ start: 0, min: 0, max: 16, perConn: 1 }, 'Connections for binding as users (Auth-Type ldap); one bind at a time per connection.'),
});

/** The parsed config. */
export type LdapConfig = conf.Infer<typeof LdapConfig>;
