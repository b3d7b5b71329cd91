// The directory logins' settings in an HA pair: written on the primary, they reach the
// secondary with the users (bind password included, so directory users log in there too,
// never shown in a read or a log line), at pairing and on every change; the secondary
// refuses to change them itself; a secondary that was down while they changed (by their own
// operation or by a whole-configuration write) catches up when it returns, through the
// users digest of the heartbeats. Addresses 127.0.248.50-52 belong to this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplianceProblemError } from '../../openapi/sdk/index.js';
import type { TestAppliance } from '../helpers/appliance-process.js';
import { BIND_PASSWORD, directorySettings, startTestDirectory, userPassword, type TestDirectory } from '../helpers/slapd.js';
import { clientOf, pair, PRIMARY_PASSWORD, SECONDARY_PASSWORD, startNode, until } from './helpers/pair.js';

let a: TestAppliance;
let b: TestAppliance;
let dir: TestDirectory;

beforeAll(async () => {
  [dir, a, b] = (await Promise.all([startTestDirectory('127.0.248.50', 16360, 16389), startNode('127.0.248.51', PRIMARY_PASSWORD), startNode('127.0.248.52', SECONDARY_PASSWORD)])) as [TestDirectory, TestAppliance, TestAppliance];
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.dispose(), b?.dispose()]);
  await dir?.dispose();
});

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplianceProblemError);
  return (err as ApplianceProblemError).code;
}

describe('directory settings in an HA pair', () => {
  it('reach the secondary at pairing, and its directory users log in there', async () => {
    await clientOf(a).replaceDirectory(directorySettings(dir) as never);
    await pair(a, b);
    const onPrimary = await clientOf(a).getDirectory();
    expect(await clientOf(b).getDirectory()).toEqual(onPrimary);
    const oscar = b.client({ username: 'oscar', password: userPassword('oscar') });
    expect(await oscar.getCurrentUser()).toMatchObject({ username: 'oscar', role: 'operator', source: 'directory' });
  });

  it('follow every change on the primary, and the secondary refuses to change them itself', async () => {
    await clientOf(a).replaceDirectory(directorySettings(dir, { url: dir.ldapUrl, startTls: true, timeoutMs: 2500 }) as never);
    await until('the change on the secondary', async () => (await clientOf(b).getDirectory()).timeoutMs === 2500);
    expect(await clientOf(b).getDirectory()).toMatchObject({ url: dir.ldapUrl, startTls: true });
    expect(await b.client({ username: 'ada', password: userPassword('ada') }).getCurrentUser()).toMatchObject({ role: 'admin' });
    expect(await codeOf(clientOf(b).replaceDirectory(directorySettings(dir) as never))).toBe('LB_HA_NOT_PRIMARY');
    expect(await codeOf(clientOf(b).deleteDirectory())).toBe('LB_HA_NOT_PRIMARY');
    await clientOf(a).deleteDirectory();
    await until('the removal on the secondary', async () => (await clientOf(b).getDirectory().then(() => false, () => true)));
    expect(await codeOf(b.client({ username: 'oscar', password: userPassword('oscar') }).getCurrentUser())).toBe('LB_UNAUTHORIZED');
  });

  it('reach a secondary that was down while they changed, once it returns', async () => {
    const primary = clientOf(a);
    await primary.replaceDirectory(directorySettings(dir, { timeoutMs: 2000 }) as never);
    await until('the settings on the secondary', async () => (await clientOf(b).getDirectory().then((d) => d.timeoutMs === 2000, () => false)));
    await b.kill();
    // Changed twice while the secondary is down: by their own operation, then by a merge patch
    // of the whole configuration (the bind password kept, as the document never holds it).
    await primary.replaceDirectory(directorySettings(dir, { url: dir.ldapUrl, startTls: true, timeoutMs: 2500 }) as never);
    const patched = await primary.patchConfig({ directory: { timeoutMs: 3500 } } as never);
    expect(patched.directory).toMatchObject({ url: dir.ldapUrl, startTls: true, timeoutMs: 3500 });
    expect((await primary.getHaStatus()).peerBehind).toBe(true);
    b = await b.restart();
    await until('the secondary caught up', async () => (await primary.getHaStatus()).peerBehind === false, 60_000);
    await until('the settings on the secondary', async () => (await clientOf(b).getDirectory().then((d) => d.timeoutMs === 3500, () => false)), 60_000);
    expect(await clientOf(b).getDirectory()).toEqual(await primary.getDirectory());
    // With the bind password: a directory user logs in on the secondary, over StartTLS now.
    expect(await b.client({ username: 'ada', password: userPassword('ada') }).getCurrentUser()).toMatchObject({ username: 'ada', role: 'admin', source: 'directory' });
  }, 120_000);

  it('never show the bind password in a read or a log line of either node', async () => {
    await clientOf(a).replaceDirectory(directorySettings(dir) as never);
    await until('the settings on the secondary', async () => (await clientOf(b).getDirectory().then(() => true, () => false)));
    expect(JSON.stringify(await clientOf(b).getDirectory())).not.toContain(BIND_PASSWORD);
    for (const node of [a, b]) expect(node.output.join('\n')).not.toContain(BIND_PASSWORD);
  });
});
