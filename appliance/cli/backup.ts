// `lbappliance backup [FILE]` and `lbappliance restore FILE`: the whole configuration as the
// API's Config document, written and restored in one revision. With `--passphrase-file`, the
// backup is a disaster-recovery backup (exportBackup): every private key, encrypted under that
// passphrase, so a restore onto a new appliance brings back every id, certificate, key and
// fingerprint, and the secrets of the operations settings (SMTP, SNMP, directory) sealed the
// same way (docs/backup-restore.md). Without it, a backup holds no key material and no secret at all: restored onto the same
// appliance, a certificate that still exists there keeps its key; onto another appliance, it
// needs its material (`--cert-pem LABEL=FILE`, certificate and key in one PEM), or is
// generated afresh (a new fingerprint, which the restore reports) when it was self-signed.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Config, ConfigInput } from '../../openapi/sdk/index.js';
import { CliError } from './cli-error.js';
import { CONNECTION_OPTIONS, withAppliance } from './connection.js';

function counts(c: Pick<Config, 'virtualServices' | 'realServers' | 'certificates'>): string {
  const n = (o: object) => Object.keys(o).length;
  return `${n(c.virtualServices)} virtual services, ${n(c.realServers)} real servers, ${n(c.certificates)} certificates`;
}

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file}: ${err.code ?? err.message}`);
  });
}

/** The passphrase in a file: its first line, without the line end. */
async function readPassphrase(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file}: ${err.code ?? err.message}`);
  });
  const passphrase = text.split(/\r?\n/)[0] ?? '';
  if (passphrase.length === 0) throw new CliError(`${file} holds no passphrase (its first line is empty)`);
  return passphrase;
}

/** Runs `backup`. */
export async function backup(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS, 'passphrase-file': { type: 'string' } }, strict: true, allowPositionals: true });
  if (positionals.length > 1) throw new CliError('usage: lbappliance backup [FILE] [--passphrase-file FILE]  (standard output when FILE is absent or -)');
  const file = positionals[0] ?? '-';
  const passphraseFile = values['passphrase-file'];
  const passphrase = passphraseFile === undefined ? undefined : await readPassphrase(passphraseFile);
  const config = await withAppliance(values, 'export the configuration', ({ client }) => (passphrase === undefined ? client.getConfig() : client.exportBackup({ passphrase })));
  const text = `${JSON.stringify(config, null, 2)}\n`;
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  // Written beside the target and renamed, so an interrupted backup never leaves half a file.
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, file);
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'LB_CLI_FAILED');
  }
  const keys = passphrase === undefined ? 'private keys and secrets stay on the appliance' : `private keys and secrets encrypted under the passphrase of ${passphraseFile}`;
  process.stderr.write(`backed up revision ${config.revision} (${counts(config)}) to ${file}; ${keys}\n`);
}

/** Parses a backup file into the body of a restore. */
export function restoreBody(text: string, file: string): ConfigInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const d = doc as Partial<ConfigInput> | null;
  if (!d || typeof d !== 'object' || [d.virtualServices, d.realServers, d.certificates].some((p) => typeof p !== 'object' || p === null)) {
    throw new CliError(`${file} is not a backup: it needs virtualServices, realServers and certificates (the output of lbappliance backup)`);
  }
  const { revision: _revision, ...body } = d as ConfigInput;
  return body;
}

/** Runs `restore`. */
export async function restore(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CONNECTION_OPTIONS, 'cert-pem': { type: 'string', multiple: true }, 'passphrase-file': { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new CliError('usage: lbappliance restore FILE [--passphrase-file FILE] [--cert-pem LABEL=PEMFILE ...]  (FILE - reads standard input)');
  const file = positionals[0] as string;
  const body = restoreBody(await readInput(file), file);
  const passphraseFile = values['passphrase-file'];
  if (passphraseFile !== undefined) {
    if (body.keyEncryption === undefined) throw new CliError(`${file} holds no encrypted private keys (a backup made without --passphrase-file): leave out --passphrase-file`);
    body.keyPassphrase = await readPassphrase(passphraseFile);
  } else if (body.keyEncryption !== undefined) {
    throw new CliError(`${file} holds private keys encrypted under a passphrase: give it with --passphrase-file FILE`);
  }
  for (const spec of values['cert-pem'] ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new CliError(`--cert-pem takes LABEL=FILE (or ID=FILE), not "${spec}"`);
    const [ref, pemFile] = [spec.slice(0, eq), spec.slice(eq + 1)];
    const entry = Object.entries(body.certificates).find(([id, c]) => id === ref || c.label === ref);
    if (!entry) throw new CliError(`--cert-pem ${ref}: the backup has no certificate with that label or id`);
    // The PEM given replaces the backup's encrypted key for this certificate.
    delete entry[1].encryptedPrivateKey;
    entry[1].pem = await readFile(pemFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read ${pemFile}: ${err.code ?? err.message}`);
    });
  }
  const after = await withAppliance(values, `restore ${file}`, ({ client }) => client.replaceConfig(body));
  process.stdout.write(`restored ${file}: revision ${after.revision} (${counts(after)})\n`);
  // A self-signed certificate without its key in the backup is generated afresh: say so.
  for (const [id, cert] of Object.entries(after.certificates)) {
    const was = body.certificates[id]?.fingerprintSha256;
    if (was !== undefined && was !== cert.fingerprintSha256) {
      process.stderr.write(`warning: certificate ${cert.label} (${id}) has a new fingerprint ${cert.fingerprintSha256} (the backup's was ${was}): its key was not in the backup\n`);
    }
  }
}
