/** Compile-time checks of `conf.Infer` (checked by `tsc --noEmit`; nothing here runs). */
import type { ConfItem } from './ast';
import { conf } from './schema';
export const S = conf.section({
  server: conf.string({ required: true }),
  pw: conf.string({ secret: true }),
  port: conf.integer({ default: 389, min: 1 }),
  t: conf.duration({ default: '30s', min: '1s' }),
  mode: conf.enum(['a', 'b'], { default: 'a' }),
  mode2: conf.enum(['x', 'y']),
  ips: conf.list(conf.ipaddr()),
  pool: conf.subsection(conf.section({ start: conf.integer({ default: 5 }) })),
  opt: conf.subsection({ x: conf.boolean() }, { optional: true }),
  body: conf.raw(),
  listen: conf.list(conf.subsection({ port: conf.integer({ required: true }) })),
});
export type S = conf.Infer<typeof S>;
declare const s: S;
const a: string = s.server;
const b: string | undefined = s.pw;
// @ts-expect-error pw may be undefined
const b2: string = s.pw;
const c: number = s.port;
const d: 'a' | 'b' = s.mode;
const d2: 'x' | 'y' | undefined = s.mode2;
// @ts-expect-error
const d3: 'x' | 'y' = s.mode2;
const e: string[] = s.ips;
const f: number = s.pool.start;
const g: boolean | undefined = s.opt?.x;
// @ts-expect-error opt optional
const h = s.opt.x;
const l: number[] = s.listen.map((x) => x.port);
const raw: ConfItem[] = s.body;
void [l, raw, a, b, b2, c, d, d2, d3, e, f, g, h];
