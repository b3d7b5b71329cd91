// `npm run demo` as a user runs it: `node bin/lbappliance demo` as a child process until it
// prints "Ready in", with TeraRecon deployed through terraform (and, with TERRAFORM_BIN
// pointing nowhere, through the SDK script, which it says); the traffic it prints for all
// three VIPs; a request of our own through the VIP with the certificate it printed; Ctrl-C
// (SIGINT) stopping it with status 0 and its temporary directory removed. The demo's plan
// is moved to 127.0.140.x (LBAPPLIANCE_DEMO_NETWORK) so that it never meets
// terarecon.test.ts on 127.0.40.x; this file alone uses 127.0.140.x.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { LBAPPLIANCE_BIN } from '../helpers/paths.js';
import { h2Session } from './helpers/traffic.js';

const NETWORK = '127.0.140';
const VIP = `${NETWORK}.217`;
const NAME = 'intuition.demo.test';

/** A running demo and everything it printed. */
interface Demo {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

let running: Demo | undefined;

afterEach(async () => {
  // A failed test must not leave the demo holding the addresses.
  if (running && running.child.exitCode === null && running.child.signalCode === null) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  running = undefined;
});

/** Starts `lbappliance demo` and waits for its "Ready in" line. */
async function startDemo(env: Record<string, string> = {}): Promise<Demo> {
  const child = spawn(process.execPath, [LBAPPLIANCE_BIN, 'demo'], {
    env: { ...process.env, LBAPPLIANCE_DEMO_NETWORK: NETWORK, CHECKPOINT_DISABLE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  running = { child, lines, exited };
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Ready in" after 150 s:\n${lines.join('\n')}`)), 150_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      if (line.startsWith('Ready in ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code} before it was ready:\n${lines.join('\n')}`));
    });
  });
  return running;
}

/** The one printed line that starts with `prefix` (after indentation). */
function line(demo: Demo, prefix: string): string {
  const found = demo.lines.filter((l) => l.trimStart().startsWith(prefix));
  expect(found, `lines starting with ${prefix}:\n${demo.lines.join('\n')}`).not.toHaveLength(0);
  return found[0]!;
}

/** Checks what the demo printed for the three VIPs, makes a request of its own through AVS, then stops it with SIGINT. */
async function checkTrafficAndStop(demo: Demo): Promise<void> {
  const out = demo.lines.join('\n');
  // AVS-Redirect: 301 to the same host and path on https.
  expect(line(demo, 'AVS-Redirect')).toContain(`-> 301 Location: https://${NAME}/aqnet/viewer?study=42`);
  // AVS: TLS verified against the example's certificate, HTTP/2 by ALPN, re-encrypted to a server.
  expect(line(demo, 'AVS   ')).toMatch(new RegExp(`TLS for ${NAME.replace(/\./g, '\\.')} verified .*ALPN h2$`));
  const h2 = demo.lines.filter((l) => l.trimStart().startsWith('AVS (h2)'));
  expect(h2).toHaveLength(4);
  for (const l of h2) expect(l).toMatch(/-> terarecon-server[12] \(appliance to server: .* over TLS\)/);
  // The persistence cookie keeps the four requests on one server.
  expect(new Set(h2.map((l) => /-> (terarecon-server[12])/.exec(l)![1])).size).toBe(1);
  // AVS-AQI: TCP connections greeted by a server.
  const aqi = demo.lines.filter((l) => l.trimStart().startsWith('AVS-AQI (tcp)'));
  expect(aqi).toHaveLength(2);
  for (const l of aqi) expect(l).toMatch(/connection \d -> HELLO terarecon-server[12] /);
  // The System Overview, every server checked and up.
  expect(out).toMatch(/System Overview \(revision \d+, engine embedded\)/);
  for (const vip of ['AVS-Redirect', 'AVS ', 'AVS-AQI']) expect(out).toContain(`● ${vip}`);
  expect(out.match(/● SERVER[12] .* up /g)).toHaveLength(4);

  // Our own request, as the printed curl would make it: the printed certificate, the name, the VIP.
  const ready = line(demo, 'Ready in ');
  const m = /--cacert (\S+) --resolve (\S+):443:(\S+) https:\/\/(\S+)\//.exec(ready);
  expect(m, ready).not.toBeNull();
  const [, certFile, resolveName, resolveAddress] = m!;
  expect([resolveName, resolveAddress]).toEqual([NAME, VIP]);
  const certPem = await readFile(certFile!, 'utf8');
  const s = await h2Session(VIP, 443, { ca: certPem, servername: NAME });
  try {
    expect(s.alpn).toBe('h2');
    expect(s.peer.fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);
    const answer = await s.get('/from/the/test');
    expect(answer.status).toBe(200);
    expect(answer.viewer).toMatchObject({ tls: true, forwardedProto: 'https' });
    expect(answer.viewer.server).toMatch(/^terarecon-server[12]$/);
  } finally {
    s.close();
  }

  // Ctrl-C: everything stops, status 0, the temporary directory is gone.
  const workDir = dirname(certFile!);
  expect(workDir).toMatch(/lbappliance-demo-/);
  demo.child.kill('SIGINT');
  expect(await demo.exited).toBe(0);
  expect(demo.lines.join('\n')).toContain('Stopped; the demo\'s temporary directory is removed.');
  await expect(access(workDir)).rejects.toMatchObject({ code: 'ENOENT' });
}

describe('npm run demo', () => {
  it('deploys TeraRecon with terraform, carries traffic through all three VIPs, and stops cleanly on Ctrl-C', async () => {
    const demo = await startDemo();
    expect(line(demo, 'Deploying examples/terarecon/terraform with ')).toContain(' apply in ');
    expect(demo.lines.some((l) => /^\s+Apply complete! Resources: 8 added/.test(l)), demo.lines.join('\n')).toBe(true);
    expect(demo.lines.join('\n')).toContain(`Appliance API at https://${NETWORK}.1:9443`);
    await checkTrafficAndStop(demo);
  }, 240_000);

  it('still removes its temporary directory on Ctrl-C when the reader of its output is gone (npm run demo | tee)', async () => {
    const demo = await startDemo({ TERRAFORM_BIN: '/nonexistent/terraform' });
    const ready = line(demo, 'Ready in ');
    const workDir = dirname(/--cacert (\S+)/.exec(ready)![1]!);
    expect(workDir).toMatch(/lbappliance-demo-/);
    // Ctrl-C in the terminal reaches tee as well: the pipe's reader dies first.
    demo.child.stdout!.destroy();
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    await expect(access(workDir)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 240_000);

  it('takes the SDK script where there is no terraform, and says so', async () => {
    const demo = await startDemo({ TERRAFORM_BIN: '/nonexistent/terraform' });
    expect(demo.lines.join('\n')).toContain('No terraform on PATH: deploying the same example with its SDK script (examples/terarecon/sdk.ts) instead...');
    expect(demo.lines.some((l) => l.includes('Deploying examples/terarecon/terraform'))).toBe(false);
    expect(demo.lines.some((l) => /^\s+create virtual service AVS$/.test(l)), demo.lines.join('\n')).toBe(true);
    await checkTrafficAndStop(demo);
  }, 240_000);
});
