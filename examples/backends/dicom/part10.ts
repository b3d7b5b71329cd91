// Reads the file meta information of a DICOM Part 10 file: the 128-byte preamble, "DICM",
// then group 0002 in explicit VR little endian. That is all the byte-for-byte check needs
// (where the data set starts, and the UIDs the meta header names), so a full DICOM parser
// would be weight without use.
import { open } from 'node:fs/promises';
import { BackendError } from '../errors.js';

/** The file meta information of a Part 10 file, and where its data set starts. */
export interface Part10Meta {
  /** (0002,0002) Media Storage SOP Class UID */
  sopClassUid: string;
  /** (0002,0003) Media Storage SOP Instance UID */
  sopInstanceUid: string;
  /** (0002,0010) Transfer Syntax UID */
  transferSyntaxUid: string;
  /** (0002,0013) Implementation Version Name, when present */
  implementationVersionName?: string;
  /** (0002,0016) Source Application Entity Title, when present (storescp writes the caller's) */
  sourceAeTitle?: string;
  /** Byte offset of the first data set element: everything from here on is the data set. */
  dataSetOffset: number;
}

// VRs whose explicit little-endian encoding has 2 reserved bytes and a 4-byte length.
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
// The meta header is small; reading this much covers any real one.
const HEAD_BYTES = 64 * 1024;

/** Parses the meta header from the first bytes of a file (throws BACKEND_NOT_DICOM). */
export function parsePart10Meta(head: Buffer, name = 'file'): Part10Meta {
  if (head.length < 132 || head.toString('latin1', 128, 132) !== 'DICM') {
    throw new BackendError('BACKEND_NOT_DICOM', `${name} has no DICM prefix after the 128-byte preamble`, { file: name });
  }
  const values = new Map<number, string>();
  let pos = 132;
  while (pos + 8 <= head.length && head.readUInt16LE(pos) === 0x0002) {
    const element = head.readUInt16LE(pos + 2);
    const vr = head.toString('latin1', pos + 4, pos + 6);
    let length: number;
    let valueAt: number;
    if (LONG_VRS.has(vr)) {
      length = head.readUInt32LE(pos + 8);
      valueAt = pos + 12;
    } else {
      length = head.readUInt16LE(pos + 6);
      valueAt = pos + 8;
    }
    if (valueAt + length > head.length) {
      throw new BackendError('BACKEND_NOT_DICOM', `${name} has a meta header element (0002,${element.toString(16).padStart(4, '0')}) running past its end`, { file: name });
    }
    // UI values are padded with NUL, text values with spaces: neither is part of the value.
    values.set(element, head.toString('latin1', valueAt, valueAt + length).replace(/[\0 ]+$/, ''));
    pos = valueAt + length;
  }
  const required = (element: number, what: string): string => {
    const v = values.get(element);
    if (!v) throw new BackendError('BACKEND_NOT_DICOM', `${name} has no ${what} in its meta header`, { file: name });
    return v;
  };
  return {
    sopClassUid: required(0x0002, 'Media Storage SOP Class UID'),
    sopInstanceUid: required(0x0003, 'Media Storage SOP Instance UID'),
    transferSyntaxUid: required(0x0010, 'Transfer Syntax UID'),
    implementationVersionName: values.get(0x0013),
    sourceAeTitle: values.get(0x0016),
    dataSetOffset: pos,
  };
}

/** Reads the meta header of a Part 10 file on disk. */
export async function readPart10Meta(path: string): Promise<Part10Meta> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
    return parsePart10Meta(buf.subarray(0, bytesRead), path);
  } finally {
    await handle.close();
  }
}
