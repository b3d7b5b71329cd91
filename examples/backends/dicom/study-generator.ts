// Writes a multi-file CT study with DCMTK's dump2dcm: one file per slice, each with its own
// SOP Instance UID and 16-bit pixel data of a synthetic phantom (body, lungs, spine) plus
// seeded noise, so every slice differs and a transfer that drops, reorders or flips a single
// byte anywhere in the pixel data cannot go unnoticed.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../errors.js';
import { runTool } from './dcmtk.js';

/** CT Image Storage, the SOP class of every generated slice. */
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** Explicit VR Little Endian, the transfer syntax of the generated files. */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** What study to generate. */
export interface StudyOptions {
  /** Directory the slices are written to (created if missing). */
  dir: string;
  /** Number of slices (default 12: about 6 MB at 512 x 512). */
  slices?: number;
  /** Rows and columns of each slice (default 512). */
  size?: number;
  /** Seed of the pixel noise (default: random). */
  seed?: number;
  patientId?: string;
  patientName?: string;
  accessionNumber?: string;
}

/** One generated slice. */
export interface GeneratedInstance {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  instanceNumber: number;
  /** Size of the whole file in bytes. */
  bytes: number;
  /** SHA-256 of the whole file, hex. */
  sha256: string;
}

/** A generated study: its UIDs and its files in slice order. */
export interface GeneratedStudy {
  dir: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  patientId: string;
  files: GeneratedInstance[];
  /** Sum of the files' sizes. */
  totalBytes: number;
}

/** A new globally unique UID in the 2.25 arc (a UUID as a decimal integer, PS3.5 B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
}

// xorshift32: a tiny deterministic generator, so a seed reproduces the same pixels.
function noise(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function inEllipse(x: number, y: number, cx: number, cy: number, rx: number, ry: number): boolean {
  const dx = (x - cx) / rx;
  const dy = (y - cy) / ry;
  return dx * dx + dy * dy <= 1;
}

/** Pixel data of one slice: stored values (HU + 1024) of a phantom, 16-bit little endian. */
export function phantomSlice(size: number, slice: number, slices: number, seed: number): Buffer {
  const out = Buffer.alloc(size * size * 2);
  const rand = noise(seed * 7919 + slice + 1);
  const c = size / 2;
  const t = slices > 1 ? slice / (slices - 1) : 0;
  const lungRy = size * (0.18 + 0.08 * Math.sin(Math.PI * t)); // lungs grow and shrink along z
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hu = -1000; // air
      if (inEllipse(x, y, c, c, size * 0.42, size * 0.32)) {
        hu = 40; // soft tissue
        if (inEllipse(x, y, c - size * 0.17, c - size * 0.02, size * 0.11, lungRy) || inEllipse(x, y, c + size * 0.17, c - size * 0.02, size * 0.11, lungRy)) hu = -800;
        if (inEllipse(x, y, c, c + size * 0.2, size * 0.05, size * 0.05)) hu = 700; // vertebra
      }
      const value = Math.min(4095, Math.max(0, hu + 1024 + ((rand() % 41) - 20)));
      out.writeUInt16LE(value, (y * size + x) * 2);
    }
  }
  return out;
}

// dump2dcm's text format: one element a line, strings in brackets, OW read from a file.
function sliceDump(o: { study: GeneratedStudy; sopInstanceUid: string; instance: number; size: number; pixelFile: string; frameOfReferenceUid: string; patientName: string; accessionNumber: string }): string {
  const z = (o.instance - 1) * 2.5;
  return [
    `(0002,0002) UI [${CT_IMAGE_STORAGE}]`,
    `(0002,0003) UI [${o.sopInstanceUid}]`,
    `(0002,0010) UI [${EXPLICIT_VR_LITTLE_ENDIAN}]`,
    `(0008,0008) CS [ORIGINAL\\PRIMARY\\AXIAL]`,
    `(0008,0016) UI [${CT_IMAGE_STORAGE}]`,
    `(0008,0018) UI [${o.sopInstanceUid}]`,
    `(0008,0020) DA [20260101]`,
    `(0008,0030) TM [120000]`,
    `(0008,0050) SH [${o.accessionNumber}]`,
    `(0008,0060) CS [CT]`,
    `(0008,0070) LO [lbappliance demo backends]`,
    `(0008,103e) LO [Synthetic phantom]`,
    `(0010,0010) PN [${o.patientName}]`,
    `(0010,0020) LO [${o.study.patientId}]`,
    `(0018,0050) DS [2.5]`,
    `(0018,0060) DS [120]`,
    `(0020,000d) UI [${o.study.studyInstanceUid}]`,
    `(0020,000e) UI [${o.study.seriesInstanceUid}]`,
    `(0020,0010) SH [1]`,
    `(0020,0011) IS [1]`,
    `(0020,0013) IS [${o.instance}]`,
    `(0020,0032) DS [-250\\-250\\${z}]`,
    `(0020,0037) DS [1\\0\\0\\0\\1\\0]`,
    `(0020,0052) UI [${o.frameOfReferenceUid}]`,
    `(0020,1041) DS [${z}]`,
    `(0028,0002) US 1`,
    `(0028,0004) CS [MONOCHROME2]`,
    `(0028,0010) US ${o.size}`,
    `(0028,0011) US ${o.size}`,
    `(0028,0030) DS [0.9765625\\0.9765625]`,
    `(0028,0100) US 16`,
    `(0028,0101) US 12`,
    `(0028,0102) US 11`,
    `(0028,0103) US 0`,
    `(0028,1050) DS [40]`,
    `(0028,1051) DS [400]`,
    `(0028,1052) DS [-1024]`,
    `(0028,1053) DS [1]`,
    `(7fe0,0010) OW =${o.pixelFile}`,
    '',
  ].join('\n');
}

/** Generates a CT study of `slices` files with dump2dcm (throws BACKEND_STUDY_GENERATION_FAILED). */
export async function generateStudy(options: StudyOptions): Promise<GeneratedStudy> {
  const slices = options.slices ?? 12;
  const size = options.size ?? 512;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  await mkdir(options.dir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'lbappliance-study-'));
  const study: GeneratedStudy = {
    dir: options.dir,
    studyInstanceUid: newUid(),
    seriesInstanceUid: newUid(),
    patientId: options.patientId ?? 'LBDEMO-0001',
    files: [],
    totalBytes: 0,
  };
  const frameOfReferenceUid = newUid();
  try {
    for (let i = 1; i <= slices; i++) {
      const sopInstanceUid = newUid();
      const pixelFile = join(work, `slice-${i}.raw`);
      const dumpFile = join(work, `slice-${i}.dump`);
      const path = join(options.dir, `CT${String(i).padStart(4, '0')}.dcm`);
      await writeFile(pixelFile, phantomSlice(size, i - 1, slices, seed));
      await writeFile(dumpFile, sliceDump({ study, sopInstanceUid, instance: i, size, pixelFile, frameOfReferenceUid, patientName: options.patientName ?? 'DEMO^PHANTOM', accessionNumber: options.accessionNumber ?? 'LBDEMO1' }));
      const result = await runTool('dump2dcm', ['-q', dumpFile, path]);
      if (result.code !== 0) {
        throw new BackendError('BACKEND_STUDY_GENERATION_FAILED', `dump2dcm exited with ${result.code} for slice ${i}`, { stderr: result.stderr });
      }
      const bytes = await readFile(path);
      study.files.push({ path, sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid, instanceNumber: i, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      study.totalBytes += bytes.length;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return study;
}
