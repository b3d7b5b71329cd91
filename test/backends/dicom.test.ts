// DICOM backends for real: DCMTK's storescp behind the supervisor's own listener, echoscu and
// storescu as clients, and the strict byte-identical check (shown to catch corruption).
// Addresses 127.0.91.x are this file's own.
import { copyFile, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertStudyReceived, compareReceivedStudy, dicomEcho, dicomStore, DicomServer, generateStudy, readPart10Meta, type GeneratedStudy } from '../../examples/backends/index.js';
import { alive, probe, storescpPids, tempDir, waitFor } from './helpers.js';

const A = { address: '127.0.91.1', port: 11112 };
const B = { address: '127.0.91.2', port: 11112 };
let work: Awaited<ReturnType<typeof tempDir>>;
let study: GeneratedStudy;
let a: DicomServer;
let b: DicomServer;

beforeAll(async () => {
  work = await tempDir('dicom-test');
  study = await generateStudy({ dir: join(work.dir, 'study'), slices: 12, seed: 42 });
  a = new DicomServer({ host: 'SERVER1', name: 'dicom-test-1', ...A, aeTitle: 'TEST1', workDir: join(work.dir, 'a') });
  b = new DicomServer({ host: 'SERVER2', name: 'dicom-test-2', ...B, aeTitle: 'TEST2', workDir: join(work.dir, 'b') });
  await a.start();
  await b.start();
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await work?.remove();
});

describe('generated study', () => {
  it('is a multi-file CT study of several MB with distinct SOP Instance UIDs', async () => {
    expect(study.files).toHaveLength(12);
    expect(study.totalBytes).toBeGreaterThan(6_000_000);
    expect(new Set(study.files.map((f) => f.sopInstanceUid)).size).toBe(12);
    expect(new Set(study.files.map((f) => f.sha256)).size).toBe(12); // every slice's pixels differ
    const meta = await readPart10Meta(study.files[0]!.path);
    expect(meta).toMatchObject({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: study.files[0]!.sopInstanceUid, transferSyntaxUid: '1.2.840.10008.1.2.1' });
  });
});

describe('storescp backend', () => {
  it('answers C-ECHO from echoscu, whatever AE title is called', async () => {
    await dicomEcho({ ...A });
    await dicomEcho({ ...A, calledAeTitle: 'SOMETHING-ELSE' });
  });

  it('receives a whole study with storescu, complete and byte-identical, only on the server it was sent to', async () => {
    const result = await dicomStore({ ...A }, study);
    expect(result.files).toBe(12);
    console.log(`C-STORE of ${study.files.length} files, ${(study.totalBytes / 1e6).toFixed(1)} MB: ${result.elapsedMs} ms`);
    const cmp = await assertStudyReceived(study, a.receivedDir);
    expect(cmp).toMatchObject({ complete: true, expected: 12, intact: 12, problems: [] });
    // Both servers listen on port 11112, each on its own address: the study is only on A.
    expect(await b.receivedFiles()).toEqual([]);
    const meta = await readPart10Meta((await a.receivedFiles())[0]!);
    expect(meta.sourceAeTitle).toBe('LBDEMO-SCU'); // storescp wrote its own meta header
  });

  it('detects a flipped byte, a missing file and a truncated file', async () => {
    const copy = join(work.dir, 'tampered');
    await mkdir(copy);
    for (const f of await a.receivedFiles()) await copyFile(f, join(copy, f.split('/').pop()!));
    const byUid = async (uid: string) => {
      for (const n of await readdir(copy)) if ((await readPart10Meta(join(copy, n))).sopInstanceUid === uid) return join(copy, n);
      throw new Error(`no ${uid}`);
    };
    const flipped = await byUid(study.files[3]!.sopInstanceUid);
    const bytes = await readFile(flipped);
    bytes[bytes.length - 1000]! ^= 0x01; // one bit deep in the pixel data
    await writeFile(flipped, bytes);
    await rm(await byUid(study.files[7]!.sopInstanceUid));
    const cut = await byUid(study.files[11]!.sopInstanceUid);
    await truncate(cut, (await readFile(cut)).length - 2);

    const cmp = await compareReceivedStudy(study, copy);
    expect(cmp.complete).toBe(false);
    expect(cmp.intact).toBe(9);
    expect(cmp.instances[3]!.problem).toMatch(/^data set differs first at data set byte \d+/);
    expect(cmp.instances[7]!.problem).toBe('not received');
    expect(cmp.instances[11]!.problem).toMatch(/^data set length differs/);
    await expect(assertStudyReceived(study, copy)).rejects.toMatchObject({ code: 'BACKEND_STUDY_MISMATCH' });
  });

  it('refuses associations while stopped and answers again once started', async () => {
    await b.stop();
    expect(await probe(B.address, B.port)).toBe('refused');
    await expect(dicomEcho({ ...B, timeoutSeconds: 3 })).rejects.toMatchObject({ code: 'BACKEND_DICOM_ECHO_FAILED' });
    await b.start();
    await dicomEcho({ ...B });
  });

  it('ends the storescp process of an open association when stopped', async () => {
    const before = b.associations;
    const socket = connect({ host: B.address, port: B.port }); // an association that never sends A-ASSOCIATE-RQ
    socket.on('error', () => undefined);
    await waitFor(() => b.pids.length === 1 && b.associations === before + 1, 5_000, 'a storescp process');
    const pid = b.pids[0]!;
    expect(alive(pid)).toBe(true);
    expect(storescpPids(b.receivedDir)).toContain(pid);
    await b.stop();
    expect(alive(pid)).toBe(false);
    expect(storescpPids(b.receivedDir)).toEqual([]);
    socket.destroy();
    await b.start();
  });
});
