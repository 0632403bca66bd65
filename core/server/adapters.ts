/**
 * Thin adapters between the layers written in parallel, kept here so each can be removed
 * once the owning layer provides the behaviour itself.
 *
 * - {@link withRequestVector}: `modules/chap` needs the Request Authenticator of an
 *   Access-Request (the CHAP challenge when there is no CHAP-Challenge attribute). It reads
 *   `request.authenticator` or the internal `Packet-Authentication-Vector` pair; the process
 *   state machine sets neither yet, so this wrapper adds the pair to Access-Requests that
 *   carry CHAP-Password (type 3) before the packet reaches the process layer.
 */
import type { DictAttr } from '../dict/attr';
import type { Dictionary } from '../dict/dictionary';
import type { InboundPacket, InFlight, PacketSink, ReplyCallback } from '../listen/types';
import { Pair } from '../pair/pair';

const ACCESS_REQUEST = 1;
const CHAP_PASSWORD = 3;

/** True when the (already framing-checked) packet has an attribute of this type. */
function hasAttr(raw: Buffer, type: number): boolean {
  const len = raw.length >= 4 ? Math.min(raw.length, (raw[2] << 8) | raw[3]) : 0;
  for (let p = 20; p + 1 < len;) {
    if (raw[p] === type) return true;
    const l = raw[p + 1];
    if (l < 2) return false;
    p += l;
  }
  return false;
}

/** Wraps `sink` so CHAP Access-Requests carry `Packet-Authentication-Vector`. */
export function withRequestVector(sink: PacketSink, dict: Dictionary): PacketSink {
  const da: DictAttr | undefined = dict.resolve('Packet-Authentication-Vector');
  if (!da) return sink;
  return {
    process(pkt: InboundPacket, done: ReplyCallback): InFlight | undefined {
      if (pkt.packet.code === ACCESS_REQUEST && hasAttr(pkt.raw, CHAP_PASSWORD)) {
        const pairs = pkt.packet.pairs as Pair[];
        if (!pairs.some((p) => p.da === da)) pairs.push(new Pair(da, Buffer.from(pkt.packet.authenticator)));
      }
      return sink.process(pkt, done);
    },
  };
}
