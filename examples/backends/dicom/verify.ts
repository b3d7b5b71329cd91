// The strict "arrived complete and byte-identical" check of a stored study.
//
// What is compared, and why: DICOM C-STORE carries only the data set; the file meta
// information (group 0002) is not sent over the network, and storescp writes its own (its
// implementation version, the caller's AE title). So for every instance sent:
// - exactly one received file carries its SOP Instance UID in the meta header,
// - that meta header names the same SOP Class UID, SOP Instance UID and Transfer Syntax UID,
// - and the data set (every byte after the meta header, to the end of the file) is
//   byte-for-byte equal to the sent file's data set, with the same length.
// storescp runs with --bit-preserving, so it writes the data set exactly as it arrived: a
// difference is a difference on the wire, not a re-encoding.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BackendError } from '../errors.js';
import { parsePart10Meta, type Part10Meta } from './part10.js';
import type { GeneratedStudy } from './study-generator.js';

/** The result for one sent instance. */
export interface InstanceCheck {
  sopInstanceUid: string;
  sent: string;
  /** The received file, when one was found. */
  received?: string;
  /** What is wrong; absent when the instance arrived intact. */
  problem?: string;
}

/** The result of comparing a sent study with what a server received. */
export interface StudyComparison {
  /** True when every instance arrived once and byte-identical. */
  complete: boolean;
  expected: number;
  intact: number;
  /** One line per problem found. */
  problems: string[];
  instances: InstanceCheck[];
}

async function loadPart10(path: string): Promise<{ meta: Part10Meta; bytes: Buffer } | undefined> {
  const bytes = await readFile(path);
  try {
    return { meta: parsePart10Meta(bytes, path), bytes };
  } catch {
    return undefined; // not a DICOM file (e.g. a log beside the received files)
  }
}

function compareOne(sent: { meta: Part10Meta; bytes: Buffer }, got: { meta: Part10Meta; bytes: Buffer }): string | undefined {
  for (const key of ['sopClassUid', 'sopInstanceUid', 'transferSyntaxUid'] as const) {
    if (sent.meta[key] !== got.meta[key]) return `${key} differs: sent ${sent.meta[key]}, received ${got.meta[key]}`;
  }
  const a = sent.bytes.subarray(sent.meta.dataSetOffset);
  const b = got.bytes.subarray(got.meta.dataSetOffset);
  if (a.length !== b.length) return `data set length differs: sent ${a.length} bytes, received ${b.length}`;
  if (!a.equals(b)) {
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    return `data set differs first at data set byte ${i} of ${a.length}`;
  }
  return undefined;
}

/** Compares a sent study with the DICOM files in a received directory. */
export async function compareReceivedStudy(study: GeneratedStudy, receivedDir: string): Promise<StudyComparison> {
  const byUid = new Map<string, string[]>();
  for (const name of (await readdir(receivedDir)).sort()) {
    const path = join(receivedDir, name);
    const file = await loadPart10(path);
    if (!file) continue;
    byUid.set(file.meta.sopInstanceUid, [...(byUid.get(file.meta.sopInstanceUid) ?? []), path]);
  }
  const instances: InstanceCheck[] = [];
  for (const f of study.files) {
    const check: InstanceCheck = { sopInstanceUid: f.sopInstanceUid, sent: f.path };
    const found = byUid.get(f.sopInstanceUid) ?? [];
    if (found.length === 0) check.problem = 'not received';
    else if (found.length > 1) check.problem = `received ${found.length} times: ${found.join(', ')}`;
    else {
      check.received = found[0]!;
      const sent = await loadPart10(f.path);
      const got = await loadPart10(check.received);
      if (!sent) throw new BackendError('BACKEND_NOT_DICOM', `${f.path} (sent) is not a DICOM Part 10 file`, { file: f.path });
      check.problem = got ? compareOne(sent, got) : 'received file is not a DICOM Part 10 file';
    }
    instances.push(check);
  }
  const problems = instances.filter((i) => i.problem !== undefined).map((i) => `${i.sopInstanceUid} (${i.sent}): ${i.problem}`);
  return { complete: problems.length === 0, expected: study.files.length, intact: instances.length - problems.length, problems, instances };
}

/** Like compareReceivedStudy, but throws BACKEND_STUDY_MISMATCH unless the study arrived complete and byte-identical. */
export async function assertStudyReceived(study: GeneratedStudy, receivedDir: string): Promise<StudyComparison> {
  const result = await compareReceivedStudy(study, receivedDir);
  if (!result.complete) {
    throw new BackendError('BACKEND_STUDY_MISMATCH', `${result.intact} of ${result.expected} instances arrived intact in ${receivedDir}:\n${result.problems.join('\n')}`, { comparison: result });
  }
  return result;
}
