// The number the kernel knows a real server by: the packet and connection mark that names
// it in the selection maps, the DR flow map and the persistence map. It is derived from the
// server's id, so it is the same across revisions and restarts (a flow recorded before a
// revision still names its server after it) and no table of numbers has to be kept.

/** The mark of a real server id (`rs-` + 12 hex digits): 28 bits, never 0. */
export function serverMark(realServerId: string): number {
  const hex = /^rs-([0-9a-f]{7})/.exec(realServerId)?.[1];
  if (hex) return parseInt(hex, 16) + 1;
  // Ids the contract does not issue (a hand-edited revision): a stable hash instead.
  let h = 2166136261;
  for (const ch of realServerId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return (h & 0x0fffffff) + 1;
}

/** A mark as nft writes it. */
export function hex(mark: number): string {
  return `0x${mark.toString(16).padStart(8, '0')}`;
}
