// usage: node scripts/cpuprofile-groups.mjs FILE.cpuprofile
// A .cpuprofile (node --cpu-prof; BENCH_CPU_PROF in the benches) as self time grouped by where it runs:
// idle, GC, native socket writes, Node's http2 and other core JS, lbappliance's own code, native (TLS, nghttp2).
// The issue notes quote its output to say what bounds a benchmark row.
import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2]));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const g = new Map(); let busy = 0;
p.samples.forEach((id, i) => {
  const c = byId.get(id).callFrame; const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
  let k;
  if (c.functionName === '(idle)') k = 'idle';
  else if (c.functionName === '(garbage collector)') k = 'GC';
  else if (/^write(Latin1String|Buffer|v|Utf8String)$/.test(c.functionName)) k = 'socket write syscalls (native)';
  else if (c.url.includes('internal/http2')) k = 'node http2 core (JS)';
  else if (c.url.includes('_tls') || c.url.includes('internal/tls')) k = 'node tls (JS)';
  else if (c.url.includes('dist/appliance')) k = 'lbappliance engine code';
  else if (c.url.startsWith('node:')) k = 'other node core JS';
  else if (c.functionName === '(program)') k = '(program): native, incl. TLS crypto and nghttp2';
  else k = 'other native: ' + c.functionName;
  g.set(k, (g.get(k) ?? 0) + dt); if (k !== 'idle') busy += dt;
});
const rows = [...g].sort((a, b) => b[1] - a[1]);
for (const [k, v] of rows.slice(0, 14)) console.log(`${Math.round(v)} ms${k === 'idle' ? '' : ` (${Math.round((v / busy) * 100)}% of busy)`}  ${k}`);
