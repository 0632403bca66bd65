/**
 * Counter periods as FreeRADIUS `sqlcounter` computes them, in local time: the current period
 * starts at the last hour / midnight / Sunday / first of the month, reaching back n - 1 units
 * for `<n>h|d|w|m`, and ends n units after the start of the current unit.
 */

/** A parsed `reset` item. */
export interface Reset {
  readonly unit: 'h' | 'd' | 'w' | 'm' | 'never';
  readonly n: number;
  /** As written, for the reply message (`daily` …). */
  readonly name: string;
}

const WORDS: Record<string, Reset['unit']> = { hourly: 'h', daily: 'd', weekly: 'w', monthly: 'm', never: 'never' };

/** Parses `daily`, `2w`, `never` …; undefined when malformed. */
export function parseReset(text: string): Reset | undefined {
  const t = text.trim().toLowerCase();
  if (WORDS[t]) return { unit: WORDS[t], n: 1, name: t };
  const m = /^(\d+)([hdwm])$/.exec(t);
  if (!m || Number(m[1]) < 1) return undefined;
  return { unit: m[2] as Reset['unit'], n: Number(m[1]), name: t };
}

/** The period holding `now` (epoch seconds): [start, end) in epoch seconds; `never` is [0, 0). */
export function periodOf(r: Reset, now: number, utc = false): { start: number; end: number } {
  if (r.unit === 'never') return { start: 0, end: 0 };
  if (utc) {
    // The same in UTC: move `now` so that its local fields are its UTC ones, and the result back.
    const off = (t: number) => new Date(t * 1000).getTimezoneOffset() * 60;
    const shifted = periodOf(r, now + off(now), false);
    return { start: shifted.start - off(shifted.start), end: shifted.end - off(shifted.end) };
  }
  const d = new Date(now * 1000);
  const unit = new Date(d);
  unit.setMinutes(0, 0, 0);
  if (r.unit !== 'h') unit.setHours(0);
  if (r.unit === 'w') unit.setDate(unit.getDate() - unit.getDay());
  if (r.unit === 'm') unit.setDate(1);
  const shift = (base: Date, k: number) => {
    const x = new Date(base);
    if (r.unit === 'h') x.setHours(x.getHours() + k);
    else if (r.unit === 'd') x.setDate(x.getDate() + k);
    else if (r.unit === 'w') x.setDate(x.getDate() + 7 * k);
    else x.setMonth(x.getMonth() + k);
    return Math.floor(x.getTime() / 1000);
  };
  return { start: shift(unit, -(r.n - 1)), end: shift(unit, r.n) };
}
