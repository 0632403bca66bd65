/**
 * The admin dashboard opened in headless Chromium (DevTools protocol, test/support/cdp.ts): it
 * asks for the token, shows the live counters and the sessions of the NAS simulator, and its
 * CoA and Disconnect buttons reach the NAS. Screenshots are decoded and checked (header colour,
 * a non-blank page, the sessions table drawn), not only HTTP status codes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Browser, decodePng } from '../support/cdp';
import { ADMIN_TOKEN, startVx, until, type VxFixture } from './fixture';

let f: VxFixture | undefined;
let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await f?.stop();
  f = undefined;
});

const near = (p: [number, number, number], q: [number, number, number]) => p.every((v, i) => Math.abs(v - q[i]) <= 6);

describe('admin dashboard in Chromium', () => {
  it('shows sessions and counters live; CoA and Disconnect buttons work', async () => {
    f = await startVx();
    const sim = f.sim;
    const gold = await sim.login('gold', 'gold-pass', '203.0.113.5');
    const silver = await sim.login('silver', 'silver-pass', '203.0.113.6');
    await sim.start(gold);
    await sim.start(silver);
    await sim.interim(gold, 3 << 19, 1 << 19);

    browser = await Browser.launch(1400, 1000);
    // Without a token: the login form, no data.
    await browser.navigate(`${f.adminUrl}/`);
    await browser.waitFor(`document.getElementById('login') && document.getElementById('login').style.display === 'block'`);
    expect(await browser.eval(`document.getElementById('app').style.display`)).toBe('none');

    await browser.navigate(`${f.adminUrl}/#token=${ADMIN_TOKEN}`);
    await browser.waitFor(`+(document.body.getAttribute('data-ready') || 0) >= 2`);
    expect(await browser.eval(`location.hash`)).toBe(''); // the token does not stay in the address bar
    const rows = await browser.eval<string[][]>(`[...document.querySelectorAll('#sess tr')].map((tr) => [...tr.children].map((td) => td.textContent))`);
    expect(rows).toHaveLength(2);
    const g = rows.find((r) => r[0] === gold.id)!;
    expect(g.slice(1, 5)).toEqual(['gold', '127.0.0.1', '100.64.0.10 (203.0.113.5)', '1.5 MiB / 512.0 KiB']);
    expect(g[5]).toBe('100000000 / 20000000');
    expect(rows.find((r) => r[0] === silver.id)![5]).toBe('10000000 / 2000000'); // mode B: the maximum
    expect(await browser.eval(`document.getElementById('sessions').textContent`)).toBe('2');
    expect(await browser.eval(`document.getElementById('lat').textContent`)).toMatch(/^[0-9.]+ \/ [0-9.]+$/); // from the site's histogram
    const mods = await browser.eval<string[]>(`[...document.querySelectorAll('#mods tr')].map((tr) => tr.children[0].textContent + ' ' + tr.children[1].textContent)`);
    expect(mods).toEqual(expect.arrayContaining(['dac dac', 'dac_detached dac', 'files files', 'pap pap', 'admin app admin']));

    const shot = await browser.screenshot();
    const dir = path.join(f.dir, 'shots');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'dashboard.png'), shot);
    if (process.env.TSRADIUS_KEEP_SCREENSHOTS) fs.copyFileSync(path.join(dir, 'dashboard.png'), process.env.TSRADIUS_KEEP_SCREENSHOTS);
    const png = decodePng(shot);
    expect([png.width, png.height]).toEqual([1400, 1000]);
    expect(near(png.pixel(700, 10), [0x1d, 0x35, 0x57])).toBe(true); // the header bar
    expect(near(png.pixel(700, 995), [0xf4, 0xf6, 0xf8]) || near(png.pixel(700, 995), [0xff, 0xff, 0xff])).toBe(true);
    // The sessions table is drawn where the DOM says it is: dark text pixels inside its box.
    const box = await browser.eval<{ x: number; y: number; w: number; h: number }>(`(() => { const r = document.getElementById('sess').getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; })()`);
    expect(box.h).toBeGreaterThan(30);
    let dark = 0;
    const colours = new Set<string>();
    for (let y = Math.ceil(box.y); y < Math.min(png.height, box.y + box.h); y += 2) {
      for (let x = Math.ceil(box.x); x < box.x + box.w; x += 2) {
        const p = png.pixel(x, y);
        if (p[0] < 90 && p[1] < 90 && p[2] < 90) dark++;
        colours.add(p.join(','));
      }
    }
    expect(dark).toBeGreaterThan(200);
    expect(colours.size).toBeGreaterThan(10);

    // CoA button: the rates typed in reach the NAS.
    const coa = new Promise<Record<string, string>>((r) => sim.once('coa', (_s, a) => r(a)));
    await browser.eval(`(() => { document.getElementById('down').value = '7000000'; document.getElementById('up').value = '1500000';
      const tr = [...document.querySelectorAll('#sess tr')].find((t) => t.children[0].textContent === ${JSON.stringify(silver.id)});
      tr.querySelector('button.coa').click(); })()`);
    expect(await coa).toMatchObject({ 'Actual-Data-Rate-Downstream': '7000000', 'Actual-Data-Rate-Upstream': '1500000', 'Idle-Timeout': '600' });
    await browser.waitFor(`[...document.querySelectorAll('#sess tr')].some((t) => t.children[0].textContent === ${JSON.stringify(silver.id)} && t.children[6].textContent === 'coa ACK')`);

    // Disconnect button: the NAS ends the session; the table follows.
    const gone = new Promise((r) => sim.once('disconnect', r));
    await browser.eval(`[...document.querySelectorAll('#sess tr')].find((t) => t.children[0].textContent === ${JSON.stringify(gold.id)}).querySelector('button.disconnect').click()`);
    await gone;
    await until(async () => (await f!.server.services.dac.sessions.get(gold.id))?.state === 'stopped');
    await browser.waitFor(`document.querySelectorAll('#sess tr').length === 1 && document.getElementById('sessions').textContent === '1'`);
    expect(await browser.eval(`document.getElementById('dac').textContent`)).toBe('2');
  }, 60_000);
});
