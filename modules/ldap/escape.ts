/**
 * LDAP escaping: every value expanded into a filter (RFC 4515) or a DN (RFC 4514) goes through
 * these, so a User-Name such as `*)(uid=*` matches itself and nothing else. Pure functions.
 */

/** Escapes a value for a search filter: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`. */
export function escapeFilter(s: string): string {
  return s.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Undoes {@link escapeFilter} (any `\xx` pair). */
export function unescapeFilter(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * Escapes an attribute value for a DN: `, + " \ < > ; = ( ) *`, NUL, a leading space or `#` and a
 * trailing space become `\xx` (backslash and two hex digits).
 */
export function escapeDn(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const special = ',+"\\<>;=()*\0'.includes(c) || (i === 0 && (c === ' ' || c === '#')) || (i === s.length - 1 && c === ' ');
    out += special ? `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c;
  }
  return out;
}

/** Undoes DN escaping (`\xx` and `\c`). */
export function unescapeDn(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{2}|.)/g, (_m, x: string) => (x.length === 2 ? String.fromCharCode(parseInt(x, 16)) : x));
}

/**
 * FreeRADIUS v4's `%ldap.uri.escape()`: the characters special in a DN or a filter of an LDAP URL
 * (`, + " \ < > ; * = ( )` and NUL) become `\xx`; everything else is kept (spaces too).
 */
export function escapeUri(s: string): string {
  return s.replace(/[,+"\\<>;*=()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A parsed `ldap[s]://host[:port]/base?attrs?scope?filter` URL (RFC 4516). */
export interface LdapUrl {
  /** `ldap://host:port` or `ldaps://host:port`, or undefined when the URL names no host. */
  readonly server?: string;
  readonly base: string;
  readonly attrs: string[];
  readonly scope: 'base' | 'one' | 'sub';
  readonly filter: string;
}

/** Parses an LDAP URL; throws an Error with a readable message when it is not one. */
export function parseLdapUrl(url: string): LdapUrl {
  const m = /^(ldap[si]?):\/\/([^/]*)(?:\/([^?]*))?(?:\?([^?]*))?(?:\?([^?]*))?(?:\?([^?]*))?(?:\?([^?]*))?$/i.exec(url.trim());
  if (!m) throw new Error(`not an LDAP URL: "${url}"`);
  const [, proto, host, base = '', attrs = '', scope = '', filter = '', exts = ''] = m;
  if (exts) throw new Error('LDAP URL extensions are not supported');
  // `ldapi:///…` (no socket named) means "the configured servers", like `ldap:///…`; a socket named stays
  // percent-encoded, as a `server` item names it.
  const sc = (scope || 'base').toLowerCase();
  if (sc !== 'base' && sc !== 'one' && sc !== 'sub') throw new Error(`LDAP URL scope must be base, one or sub, not "${scope}"`);
  return {
    server: host ? `${proto.toLowerCase()}://${proto.toLowerCase() === 'ldapi' ? host : decodeURIComponent(host)}` : undefined,
    base: decodeURIComponent(base),
    attrs: attrs ? attrs.split(',').map((a) => decodeURIComponent(a).trim()).filter(Boolean) : [],
    scope: sc,
    filter: filter ? decodeURIComponent(filter) : '(objectClass=*)',
  };
}
