// The one door to the kernel's nftables: a whole transaction goes in on stdin (`nft -f -`,
// applied all or nothing by the kernel) and listings come back as JSON (`nft -j`). Nothing
// else in the kernel plane spawns nft, so the binary (LBAPPLIANCE_NFT_BIN) and the error
// wording live here.
import { spawn } from 'node:child_process';

/** The nft binary the appliance runs. */
export const NFT_BIN = process.env.LBAPPLIANCE_NFT_BIN ?? 'nft';

/** nft refused a transaction or a command; `stderr` says why. */
export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'NftError';
  }
}

function run(args: string[], stdin: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(NFT_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', (e) => reject(new NftError(`cannot run ${NFT_BIN}: ${e.message}`, '')));
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new NftError(`${NFT_BIN} ${args.join(' ')} failed (exit ${code}): ${err.trim().split('\n').slice(0, 6).join(' | ')}`, err));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

/** Applies a transaction atomically (`check` only parses and validates it against the kernel). */
export async function nftApply(script: string, options: { check?: boolean } = {}): Promise<void> {
  await run(options.check ? ['-c', '-f', '-'] : ['-f', '-'], script);
}

/** `nft -j list ...` parsed (a first argument `-t`: terse, without set elements); the `nftables` array of objects. */
export async function nftList(...what: string[]): Promise<Record<string, unknown>[]> {
  const terse = what[0] === '-t';
  const out = await run(terse ? ['-j', '-t', 'list', ...what.slice(1)] : ['-j', 'list', ...what], null);
  const parsed = JSON.parse(out) as { nftables?: Record<string, unknown>[] };
  return parsed.nftables ?? [];
}

/** Whether nft runs here and may change the ruleset (root or CAP_NET_ADMIN). */
export async function nftUsable(): Promise<string | null> {
  try {
    await run(['-c', '-f', '-'], 'add table ip lbappliance_probe\n');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
