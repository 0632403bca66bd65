/**
 * Profile sync: a CoA with the new rates when a user's (or group's) profile changed in the user store.
 *
 * The profile is read by running a `CoA-Request` for the session (User-Name, Acct-Session-Id,
 * NAS-IP-Address / NAS-IPv6-Address, NAS-Port) through the configured site (`profile_site`) in-process: its
 * `recv CoA-Request` section calls the user store (`files`, `sql`, `ldap`, …) and leaves the profile in
 * the reply list. Nothing is sent to the NAS by that run. The dynamic attributes of the reply
 * ({@link VX_DYNAMIC_ATTRIBUTES}) are compared with what the session has applied (granted at Accept,
 * changed by CoA-ACKs); those that differ go to the NAS in one CoA-Request. A session whose profile
 * did not change gets no CoA (`unchanged`); a run that does not answer CoA-ACK (user gone, store down)
 * sends nothing (`no_profile`).
 */
import type { DacResult } from '../../../dac/service';
import { VX_DYNAMIC_ATTRIBUTES } from '../../../dac/service';
import type { DacSession, SessionFilter } from '../../../dac/sessions';
import { printValueUnquoted } from '../../../value/print';
import { forEachLeaf } from '../../../pair/list';
import { PacketCode } from '../../../protocol/radius';
import type { AppHost } from '../../app';

/** The outcome per session: a CoA result, or `unchanged` / `no_profile` (nothing sent). */
export type ProfileResult = (DacResult | { session: string; user?: string; nas?: string; result: 'unchanged' | 'no_profile'; message?: string }) & {
  /** The attributes that differed and were sent. */
  changed?: Record<string, string>;
};

const DYNAMIC = new Set(VX_DYNAMIC_ATTRIBUTES);

function quote(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The current profile of a session's user: dynamic attribute → value text; undefined when the site did not ACK. */
export async function readProfile(host: AppHost, site: string, s: DacSession): Promise<Record<string, string> | undefined> {
  const nasAttr = s.nas.includes(':') ? 'NAS-IPv6-Address' : 'NAS-IP-Address';
  const pairs = [`User-Name = ${quote(s.user)}`, `Acct-Session-Id = ${quote(s.id)}`, `${nasAttr} = ${s.nas}`];
  if (s.nasPort !== undefined) pairs.push(`NAS-Port = ${s.nasPort}`);
  const r = await host.inject(site, { code: 'CoA-Request', pairs: pairs.join(', '), via: 'profile' });
  if (r.code !== PacketCode.CoAACK) return undefined;
  const out: Record<string, string> = {};
  forEachLeaf(r.pairs, (p) => { if (DYNAMIC.has(p.da.name) && p.value !== undefined) out[p.da.name] = printValueUnquoted(p.da, p.value); });
  return out;
}

/** Compares each matching active session's applied attributes with its profile and sends a CoA for what differs. */
export async function syncProfiles(host: AppHost, site: string, filter: SessionFilter): Promise<ProfileResult[]> {
  const sessions = await host.dac.sessions.find({ ...filter, all: false }, 100_000);
  return Promise.all(sessions.map(async (s): Promise<ProfileResult> => {
    let profile: Record<string, string> | undefined;
    try {
      profile = await readProfile(host, site, s);
    } catch (e) {
      return { session: s.id, user: s.user, nas: s.nas, result: 'no_profile', message: (e as Error).message };
    }
    if (!profile) return { session: s.id, user: s.user, nas: s.nas, result: 'no_profile', message: `server ${site} did not answer CoA-ACK` };
    const changed: Record<string, string> = {};
    for (const [k, v] of Object.entries(profile)) if (s.attributes[k] !== v) changed[k] = v;
    if (Object.keys(changed).length === 0) return { session: s.id, user: s.user, nas: s.nas, result: 'unchanged' };
    const r = await host.dac.send(s, 'coa', changed);
    return { ...r, changed };
  }));
}
