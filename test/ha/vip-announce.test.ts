// A node that gives a VIP address up stops announcing it. Taking an address over announces it
// with gratuitous ARP repeated for a few seconds (arping -U -c 3); a node that released the
// address within those seconds used to go on announcing it, and its last announcements drew
// the servers' and clients' traffic back from the node that had taken over: every nat
// connection died on a quick takeover (0 of 8 in test/ha/layer4-takeover.test.ts on an idle
// machine). Here the real VipAddresses runs in a namespace of its own (veth pair va0/va1,
// 198.19.130.0/24): it takes an address and gives it up at once; no arping for it may be left
// running, and the peer end of the link, listening with a raw packet socket, must hear no
// announcement of it after the release. Namespace vaddr-t.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespaces, ip, nsExec } from '../helpers/netns-lan.js';
import { needProgram } from '../helpers/programs.js';
import { ROOT } from '../helpers/paths.js';

const NS = 'vaddr-t';
const VIP = '198.19.130.10';

beforeAll(async () => {
  needProgram('ip');
  needProgram('arping');
  needProgram('python3');
  await deleteNamespaces([NS]);
  await ip('netns', 'add', NS);
  await ip('-n', NS, 'link', 'add', 'va0', 'type', 'veth', 'peer', 'name', 'va1');
  for (const dev of ['lo', 'va0', 'va1']) await ip('-n', NS, 'link', 'set', dev, 'up');
  await ip('-n', NS, 'addr', 'add', '198.19.130.1/24', 'dev', 'va0');
}, 30_000);

afterAll(async () => {
  await deleteNamespaces([NS]);
});

describe('VIP addresses', () => {
  it('stop being announced the moment they are given up', async () => {
    const script = join(tmpdir(), `vip-announce-${process.pid}.mjs`);
    await writeFile(
      script,
      `import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const pino = createRequire(${JSON.stringify(join(ROOT, 'package.json'))})('pino');
const { VipAddresses } = await import(${JSON.stringify(join(ROOT, 'dist/appliance/ha/vip-addresses.js'))});
const vip = new VipAddresses('va0', pino({ level: 'silent' }));
await vip.own([${JSON.stringify(VIP)}]);
await new Promise((r) => setTimeout(r, 300));
await vip.release();
const released = Date.now() / 1000;
await new Promise((r) => setTimeout(r, 200));
const left = readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
  try { const c = readFileSync('/proc/' + p + '/cmdline', 'utf8'); return c.includes('arping') && c.includes(${JSON.stringify(VIP)}); } catch { return false; }
});
console.log(JSON.stringify({ released, arpingLeft: left.length }));
`,
    );
    // The peer end hears every ARP frame for 5 s (three announcements a second apart would end after the release).
    const listener = spawn('ip', ['netns', 'exec', NS, 'python3', '-c', `
import socket, struct, time, json
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(('va1', 0))
s.settimeout(0.2)
end = time.time() + 5
seen = []
while time.time() < end:
    try:
        f = s.recv(2048)
    except socket.timeout:
        continue
    sip = socket.inet_ntoa(f[28:32]); tip = socket.inet_ntoa(f[38:42])
    if sip == tip == '${VIP}':
        seen.append(time.time())
print(json.dumps(seen))
`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    listener.stdout!.on('data', (d: Buffer) => (heard += d.toString()));
    const listened = new Promise<void>((resolve) => listener.once('exit', () => resolve()));
    await new Promise((r) => setTimeout(r, 300));
    const run = await nsExec(NS, process.execPath, [script], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const { released, arpingLeft } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { released: number; arpingLeft: number };
    await listened;
    const announcements = JSON.parse(heard.trim()) as number[];
    expect(arpingLeft).toBe(0);
    // It was announced while owned, and never after it was given up.
    expect(announcements.filter((t) => t < released).length).toBeGreaterThanOrEqual(1);
    expect(announcements.filter((t) => t > released + 0.05)).toEqual([]);
  }, 60_000);
});
