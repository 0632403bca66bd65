/**
 * Session helpers shared by the session stores (`sql` on radacct, `rediswho` on Redis):
 *
 * - the FreeRADIUS `acct_unique` key (Acct-Unique-Session-Id when policy did not set one), so
 *   every store and FreeRADIUS itself agree on which record a Start, Interim-Update and Stop are;
 * - Simultaneous-Use: the limit (control.Simultaneous-Use lowered by a Port-Limit) and the reject
 *   with FreeRADIUS's Reply-Message.
 */
import * as crypto from 'node:crypto';
import { Pair, printValueUnquoted, setValue } from '../../core';
import type { DictAttr, Dictionary, Request } from '../../core';

/** The fields of FreeRADIUS's `acct_unique` key (without Class), in order; `a|b`: the first present. */
const ACCT_UNIQUE_KEY = ['User-Name', 'Acct-Session-Id', 'NAS-IPv6-Address|NAS-IP-Address', 'NAS-Identifier', 'NAS-Port-Id', 'NAS-Port'] as const;

/** The attributes {@link SessionAttrs.uniqueId} and {@link SessionAttrs.limit} use, resolved once. */
export class SessionAttrs {
  private readonly acctUnique?: DictAttr;
  private readonly uniqueKey: readonly (readonly DictAttr[])[];
  private readonly simulUse?: DictAttr;
  private readonly portLimit?: DictAttr;
  private readonly replyMessage?: DictAttr;

  constructor(dict: Dictionary) {
    this.acctUnique = dict.resolve('Acct-Unique-Session-Id');
    this.uniqueKey = ACCT_UNIQUE_KEY.map((f) => f.split('|').map((n) => dict.resolve(n)).filter((d): d is DictAttr => d !== undefined));
    this.simulUse = dict.resolve('Simultaneous-Use');
    this.portLimit = dict.resolve('Port-Limit');
    this.replyMessage = dict.resolve('Reply-Message');
  }

  /**
   * request.Acct-Unique-Session-Id; when absent it is set to the MD5 (hex) that the FreeRADIUS
   * `acct_unique` policy computes without a Class (so both servers give a session one key).
   */
  uniqueId(request: Request): string {
    const have = this.acctUnique ? request.request.find((p) => p.da === this.acctUnique) : undefined;
    if (have?.value !== undefined) return String(have.value);
    const field = (das: readonly DictAttr[]) => {
      for (const da of das) {
        const p = request.request.find((x) => x.da === da);
        if (p?.value !== undefined) return printValueUnquoted(da, p.value);
      }
      return '';
    };
    const id = crypto.createHash('md5').update(this.uniqueKey.map(field).join(',')).digest('hex');
    if (this.acctUnique) setValue(request.request, this.acctUnique, id);
    return id;
  }

  /** control.Simultaneous-Use, lowered by Port-Limit (reply or control); undefined when neither is set. */
  limit(request: Request): number | undefined {
    let limit: number | undefined;
    const take = (l: readonly Pair[], da?: DictAttr) => {
      if (!da) return;
      const p = l.find((x) => x.da === da);
      if (p && p.value !== undefined) limit = Math.min(limit ?? Infinity, Number(p.value));
    };
    take(request.control, this.simulUse);
    take(request.reply, this.portLimit);
    take(request.control, this.portLimit);
    return limit;
  }

  /** Replaces the reply's Reply-Message with FreeRADIUS's "already logged in" text (the caller returns `reject`). */
  reject(request: Request, count: number, limit: number): void {
    if (!this.replyMessage) return;
    const l = request.reply;
    for (let i = l.length - 1; i >= 0; i--) if (l[i].da === this.replyMessage) l.splice(i, 1);
    l.push(new Pair(this.replyMessage, limit > 1
      ? `You are already logged in ${count} times (limit ${limit}) - access denied`
      : 'You are already logged in - access denied'));
  }
}

/** One online session as the session stores list it (`radiusd sessions`). */
export interface OnlineSession {
  readonly user: string;
  readonly nas: string;
  readonly port: string;
  readonly sessionId: string;
  readonly uniqueId: string;
  /** Epoch seconds (null: unknown). */
  readonly start: number | null;
  /** Seconds since the start. */
  readonly online: number;
  readonly address: string;
  readonly callingStationId: string;
  readonly sessionTime: number;
  readonly inputOctets: number;
  readonly outputOctets: number;
}
