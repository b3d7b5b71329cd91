// DICOM and HL7 through a VIP, and which backend server it reached: a new study is stored
// through the VIP and must arrive complete and byte-identical on exactly one server (and
// nothing of it on the others); an HL7 message must be acknowledged AA by one server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestMessage, compareReceivedStudy, dicomStore, generateStudy, sendHl7, type DicomServer, type DicomTarget, type Hl7Server } from '../../../examples/backends/index.js';

/** Where a stored study went and how long the transfer took. */
export interface StoreOutcome {
  /** The host id of the server that received it. */
  host: string;
  files: number;
  bytes: number;
  elapsedMs: number;
}

/** Stores a freshly generated study through `target`; exactly one of `servers` (by host id) must hold all of it, byte for byte. */
export async function storeStudyThrough(target: DicomTarget, servers: Record<string, DicomServer>, slices = 12): Promise<StoreOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-study-'));
  try {
    const study = await generateStudy({ dir, slices });
    const stored = await dicomStore(target, study);
    const found: string[] = [];
    for (const [host, server] of Object.entries(servers)) {
      const c = await compareReceivedStudy(study, server.receivedDir).catch(() => undefined);
      if (!c || c.intact === 0) continue;
      if (!c.complete) throw new Error(`${host} received ${c.intact} of ${c.expected} instances intact:\n${c.problems.join('\n')}`);
      found.push(host);
    }
    if (found.length !== 1) throw new Error(`the study arrived complete on ${found.length} servers (${found.join(', ')}), expected exactly one`);
    return { host: found[0]!, files: stored.files, bytes: study.totalBytes, elapsedMs: stored.elapsedMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let sequence = 0;

/** Sends one HL7 message through `target` (its ACK must be AA) and returns the host id of the server that logged it. */
export async function hl7Through(target: { address: string; port: number }, servers: Record<string, Hl7Server>): Promise<string> {
  const controlId = `EX${process.pid}-${++sequence}`;
  const [ack] = await sendHl7(target, [buildTestMessage({ controlId })]);
  if (ack?.ackCode !== 'AA' || ack.controlId !== controlId) throw new Error(`unexpected ACK ${JSON.stringify(ack)}`);
  const hosts = Object.entries(servers).filter(([, s]) => s.log.some((m) => m.controlId === controlId)).map(([h]) => h);
  if (hosts.length !== 1) throw new Error(`message ${controlId} logged by ${hosts.length} servers`);
  return hosts[0]!;
}
