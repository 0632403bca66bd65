/**
 * The live dashboard served by the `admin` app at `GET /`: one static page that polls the JSON
 * API every second with the bearer token (typed in, or given as `#token=…`, kept in
 * sessionStorage). It shows the request and reply rates (a chart of the last two minutes),
 * drops, the modules and apps with their states, and the sessions with CoA / Disconnect
 * buttons. Data is written with textContent only (nothing from the server becomes markup).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsradius admin</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1d2730}
header{background:#1d3557;color:#fff;padding:10px 18px;display:flex;gap:24px;align-items:baseline}
header h1{font-size:18px;margin:0}
main{padding:14px 18px;display:grid;gap:14px}
.tiles{display:grid;grid-template-columns:repeat(7,1fr);gap:10px}
.tile{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0002}
.tile .v{font-size:24px;font-weight:600}.tile .k{color:#5a6b7b;font-size:12px}
section{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0002}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #e3e8ee;font-size:13px}
.ok{color:#177245}.bad{color:#b3261e}.warn{color:#a15c00}
button{font:inherit;padding:2px 8px;margin-right:4px;cursor:pointer}
input{font:inherit;width:110px}
#login{display:none;padding:30px}#err{color:#b3261e}
canvas{width:100%;height:140px}
</style></head>
<body>
<header><h1>tsradius</h1><span id="status">connecting…</span><span id="gen"></span><span id="uptime"></span></header>
<div id="login"><p>Admin token:</p><input id="tok" type="password" style="width:320px"> <button id="go">Open</button><p id="err"></p></div>
<main id="app">
<div class="tiles">
 <div class="tile"><div class="v" id="rps">0</div><div class="k">requests / s</div></div>
 <div class="tile"><div class="v" id="reps">0</div><div class="k">replies / s</div></div>
 <div class="tile"><div class="v" id="lat">–</div><div class="k">latency p50 / p99 (ms)</div></div>
 <div class="tile"><div class="v" id="drops">0</div><div class="k">dropped (total)</div></div>
 <div class="tile"><div class="v" id="sessions">0</div><div class="k">active sessions</div></div>
 <div class="tile"><div class="v" id="dac">0</div><div class="k">CoA/Disconnect sent</div></div>
 <div class="tile"><div class="v" id="rtt">–</div><div class="k">DAC in flight</div></div>
</div>
<section><h2>Request rate (last 2 minutes)</h2><canvas id="chart" width="1200" height="140"></canvas></section>
<section><h2>Modules, home servers and apps</h2><table><thead><tr><th>name</th><th>kind</th><th>state</th><th>detail</th></tr></thead><tbody id="mods"></tbody></table></section>
<section><h2>Sessions</h2>
<div style="margin-bottom:6px">CoA rates: down <input id="down" value="5000000"> up <input id="up" value="1000000"> idle <input id="idle" value="600"></div>
<table><thead><tr><th>session</th><th>user</th><th>NAS</th><th>address</th><th>in / out</th><th>rates</th><th>last CoA/Disconnect</th><th></th></tr></thead><tbody id="sess"></tbody></table></section>
</main>
<script>
(function(){
 var $ = function(id){ return document.getElementById(id); };
 var token = sessionStorage.getItem('tsradius-token') || '';
 function fromHash(){
  var m = /token=([^&]+)/.exec(location.hash || '');
  if (!m) return false;
  token = decodeURIComponent(m[1]); sessionStorage.setItem('tsradius-token', token); history.replaceState(null, '', location.pathname);
  $('login').style.display = 'none'; $('app').style.display = '';
  return true;
 }
 fromHash();
 window.addEventListener('hashchange', function(){ if (fromHash()) tick(); });
 var hist = [], last = null, lastLat = null;
 function q(bounds, counts, p){ var t = 0, a = 0, i; for (i = 0; i < counts.length; i++) t += counts[i]; if (!t) return null; for (i = 0; i < counts.length; i++) { a += counts[i]; if (a >= p * t) return i < bounds.length ? bounds[i] * 1000 : Infinity; } return Infinity; }
 function fmtMs(v){ return v === null ? '–' : v === Infinity ? '>10s' : (v < 1 ? v.toFixed(1) : v.toFixed(0)); }
 function api(path, opts){
  opts = opts || {}; opts.headers = { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' };
  return fetch(path, opts).then(function(r){ if (r.status === 401) { showLogin('wrong or missing token'); throw new Error('401'); } return r.json(); });
 }
 function showLogin(msg){ $('login').style.display = 'block'; $('app').style.display = 'none'; $('err').textContent = msg || ''; }
 $('go').onclick = function(){ token = $('tok').value; sessionStorage.setItem('tsradius-token', token); $('login').style.display = 'none'; $('app').style.display = ''; tick(); };
 function cell(tr, text, cls){ var td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
 function fmtBytes(n){ var u = ['B','KiB','MiB','GiB','TiB']; var i = 0; while (n >= 1024 && i < 4) { n /= 1024; i++; } return n.toFixed(i ? 1 : 0) + ' ' + u[i]; }
 function draw(){
  var c = $('chart'), g = c.getContext('2d'); g.clearRect(0, 0, c.width, c.height);
  var max = 1; hist.forEach(function(h){ max = Math.max(max, h.rps); });
  g.strokeStyle = '#d0d7de'; g.beginPath(); g.moveTo(0, c.height - 1); g.lineTo(c.width, c.height - 1); g.stroke();
  g.fillStyle = '#5a6b7b'; g.font = '12px sans-serif'; g.fillText(max.toFixed(0) + ' /s', 4, 12);
  g.strokeStyle = '#1d6fd8'; g.lineWidth = 2; g.beginPath();
  hist.forEach(function(h, i){ var x = c.width * i / 119, y = c.height - 4 - (c.height - 20) * h.rps / max; if (i) g.lineTo(x, y); else g.moveTo(x, y); });
  g.stroke();
 }
 function act(kind, id){
  var body = kind === 'coa' ? JSON.stringify({ attributes: { 'Actual-Data-Rate-Downstream': +$('down').value, 'Actual-Data-Rate-Upstream': +$('up').value, 'Idle-Timeout': +$('idle').value } }) : '{}';
  return api('/api/sessions/' + encodeURIComponent(id) + '/' + kind, { method: 'POST', body: body }).then(tick);
 }
 function tick(){
  return Promise.all([api('/api/stats'), api('/api/health'), api('/api/sessions')]).then(function(r){
   var st = r[0], he = r[1], ss = r[2];
   var now = Date.now(), rec = st.total.received || 0, rep = (st.total.replied || st.total.sent || 0);
   var rps = 0, reps = 0;
   if (last) { var dt = (now - last.t) / 1000; rps = Math.max(0, (rec - last.rec) / dt); reps = Math.max(0, (rep - last.rep) / dt); }
   last = { t: now, rec: rec, rep: rep };
   hist.push({ rps: rps }); if (hist.length > 120) hist.shift();
   $('rps').textContent = rps.toFixed(1); $('reps').textContent = reps.toFixed(1);
   // Latency over the last poll interval (all sites), from the histogram's bucket counts.
   var bounds = [], sum = null;
   for (var site in (st.latency || {})) { var L = st.latency[site]; bounds = L.buckets; if (!sum) sum = L.counts.slice(); else for (var j = 0; j < sum.length; j++) sum[j] += L.counts[j]; }
   if (sum) { var win = lastLat ? sum.map(function(c, j){ return c - lastLat[j]; }) : sum; if (!win.some(function(c){ return c > 0; })) win = sum; lastLat = sum;
    $('lat').textContent = fmtMs(q(bounds, win, 0.5)) + ' / ' + fmtMs(q(bounds, win, 0.99)); }
   $('drops').textContent = String(st.total.drop_total || 0);
   $('sessions').textContent = String(st.sessions.active);
   var sent = 0; for (var k in st.dac.requests) sent += st.dac.requests[k];
   $('dac').textContent = String(sent); $('rtt').textContent = String(st.dac.in_flight);
   $('status').textContent = 'status: ' + he.status; $('status').className = he.status === 'ok' ? '' : 'bad';
   $('gen').textContent = 'generation ' + he.generation; $('uptime').textContent = 'up ' + Math.round(he.uptime) + ' s';
   var mods = $('mods'); mods.textContent = '';
   he.modules.forEach(function(x){ var tr = document.createElement('tr'); cell(tr, x.name); cell(tr, x.module); var s = x.health ? x.health.status : x.state; cell(tr, s, s === 'ok' || s === 'instantiated' ? 'ok' : 'warn'); cell(tr, x.health && x.health.detail ? JSON.stringify(x.health.detail).slice(0, 160) : ''); mods.appendChild(tr); });
   he.apps.forEach(function(x){ var tr = document.createElement('tr'); cell(tr, x.name); cell(tr, 'app ' + x.kind); cell(tr, x.health.status, x.health.status === 'ok' ? 'ok' : 'bad'); cell(tr, x.health.detail ? JSON.stringify(x.health.detail).slice(0, 160) : ''); mods.appendChild(tr); });
   var tb = $('sess'); tb.textContent = '';
   ss.sessions.forEach(function(s){
    var tr = document.createElement('tr');
    cell(tr, s.id); cell(tr, s.user); cell(tr, s.nas); cell(tr, (s.framedIp || '') + (s.clientIp ? ' (' + s.clientIp + ')' : ''));
    cell(tr, fmtBytes(s.inputOctets) + ' / ' + fmtBytes(s.outputOctets));
    var a = s.attributes || {}; cell(tr, (a['Actual-Data-Rate-Downstream'] || a['Maximum-Data-Rate-Downstream'] || '–') + ' / ' + (a['Actual-Data-Rate-Upstream'] || a['Maximum-Data-Rate-Upstream'] || '–'));
    var d = s.lastDac; cell(tr, d ? d.kind + ' ' + d.result.toUpperCase() + (d.errorCauseName ? ' (' + d.errorCauseName + ')' : d.errorCause ? ' (' + d.errorCause + ')' : '') : '', d ? (d.result === 'ack' ? 'ok' : 'bad') : '');
    var td = cell(tr, '');
    var b1 = document.createElement('button'); b1.textContent = 'CoA'; b1.className = 'coa'; b1.onclick = function(){ act('coa', s.id); }; td.appendChild(b1);
    var b2 = document.createElement('button'); b2.textContent = 'Disconnect'; b2.className = 'disconnect'; b2.onclick = function(){ act('disconnect', s.id); }; td.appendChild(b2);
    tb.appendChild(tr);
   });
   draw();
   document.body.setAttribute('data-ready', String(+(document.body.getAttribute('data-ready') || 0) + 1));
  }).catch(function(e){ if (e.message !== '401') $('status').textContent = 'error: ' + e.message; });
 }
 if (!token) showLogin(); else tick();
 setInterval(function(){ if (token) tick(); }, 1000);
})();
</script></body></html>
`;
