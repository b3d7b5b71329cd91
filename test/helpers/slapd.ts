// A real directory for the directory-login suites: Debian's slapd, started by the test with
// its own slapd.conf and mdb database in a temporary directory, a test CA and a server
// certificate for its loopback address, listening on LDAPS and on LDAP with StartTLS, and
// loaded with users and groups by ldapadd. Stop it to play a directory that is down.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { needProgram } from './programs.js';

/** The suffix of the test directory. */
export const SUFFIX = 'dc=hospital,dc=test';
/** The service account the appliance binds as. */
export const BIND_DN = `cn=svc-lbappliance,ou=service,${SUFFIX}`;
/** The service account's password (it must never appear in a read, a log line or a state). */
export const BIND_PASSWORD = 'bind-secret-Zq7-never-shown';
/** Every directory user's password is this prefix and their name (e.g. `pw-oscar-0123`). */
export const userPassword = (name: string) => `pw-${name}-0123`;
/** The groups, by role they are meant for. */
export const GROUPS = {
  admins: `cn=lb-admins,ou=groups,${SUFFIX}`,
  operators: `cn=lb-operators,ou=groups,${SUFFIX}`,
  readers: `cn=lb-readers,ou=groups,${SUFFIX}`,
  others: `cn=radiology,ou=groups,${SUFFIX}`,
};
/** The users: ada (admins), oscar (operators), rita (readers), nora (others only). */
export const USERS = { ada: GROUPS.admins, oscar: GROUPS.operators, rita: GROUPS.readers, nora: GROUPS.others } as const;

/** A running slapd. */
export interface TestDirectory {
  /** `ldaps://ADDRESS:PORT` */
  ldapsUrl: string;
  /** `ldap://ADDRESS:PORT` (StartTLS offered) */
  ldapUrl: string;
  /** The test CA's certificate (PEM). */
  caPem: string;
  /** Every line slapd wrote. */
  output: string[];
  /** Stops slapd (the directory is down until start()). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and database. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

/** Makes a test CA and a server certificate for `address` signed by it. */
async function makeCa(dir: string, address: string): Promise<void> {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=lbappliance test directory CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${address}`], dir);
  await writeFile(join(dir, 'server.ext'), `subjectAltName=IP:${address}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '30', '-extfile', 'server.ext'], dir);
}

function ldif(): string {
  const entries = [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hospital\no: Test Hospital`,
    `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ou=groups,${SUFFIX}\nobjectClass: organizationalUnit\nou: groups`,
    `dn: ou=service,${SUFFIX}\nobjectClass: organizationalUnit\nou: service`,
    `dn: ${BIND_DN}\nobjectClass: inetOrgPerson\ncn: svc-lbappliance\nsn: service\nuserPassword: ${BIND_PASSWORD}`,
    ...Object.keys(USERS).map((name) => `dn: uid=${name},ou=people,${SUFFIX}\nobjectClass: inetOrgPerson\nuid: ${name}\ncn: ${name}\nsn: ${name}\nuserPassword: ${userPassword(name)}`),
    ...Object.values(GROUPS).map((dn) => {
      const members = Object.entries(USERS).filter(([, g]) => g === dn).map(([name]) => `member: uid=${name},ou=people,${SUFFIX}`);
      return `dn: ${dn}\nobjectClass: groupOfNames\ncn: ${dn.slice(3, dn.indexOf(','))}\n${members.join('\n')}`;
    }),
  ];
  return `${entries.join('\n\n')}\n`;
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`slapd did not listen on ${host}:${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Starts slapd on `address` (the suite's own loopback address) with ports `ldapsPort` and `ldapPort`. */
export async function startTestDirectory(address: string, ldapsPort: number, ldapPort: number): Promise<TestDirectory> {
  const slapd = needProgram('slapd');
  needProgram('ldapadd');
  needProgram('openssl');
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-slapd-'));
  await mkdir(join(dir, 'db'));
  await makeCa(dir, address);
  await writeFile(
    join(dir, 'slapd.conf'),
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'modulepath /usr/lib/ldap',
      'moduleload back_mdb',
      'moduleload memberof',
      `pidfile ${join(dir, 'slapd.pid')}`,
      `TLSCACertificateFile ${join(dir, 'ca.crt')}`,
      `TLSCertificateFile ${join(dir, 'server.crt')}`,
      `TLSCertificateKeyFile ${join(dir, 'server.key')}`,
      'database mdb',
      'maxsize 16777216',
      `suffix "${SUFFIX}"`,
      `rootdn "cn=admin,${SUFFIX}"`,
      'rootpw root-secret-0123',
      `directory ${join(dir, 'db')}`,
      'overlay memberof',
      'access to attrs=userPassword by self read by anonymous auth by * none',
      'access to * by users read by * none',
      '',
    ].join('\n'),
  );
  const output: string[] = [];
  let child: ChildProcess | null = null;
  const ldapsUrl = `ldaps://${address}:${ldapsPort}`;
  const ldapUrl = `ldap://${address}:${ldapPort}`;
  const start = async () => {
    // -d 0: in the foreground (a child the test owns), logging nothing but errors.
    const proc = spawn(slapd, ['-f', join(dir, 'slapd.conf'), '-h', `${ldapsUrl}/ ${ldapUrl}/`, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`slapd exited (${code}): ${output.join('')}`))));
    exited.catch(() => undefined);
    await Promise.race([Promise.all([waitForPort(address, ldapsPort, 30_000), waitForPort(address, ldapPort, 30_000)]), exited]);
  };
  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  };
  try {
    await start();
    await writeFile(join(dir, 'data.ldif'), ldif());
    execFileSync('ldapadd', ['-x', '-H', ldapUrl, '-D', `cn=admin,${SUFFIX}`, '-w', 'root-secret-0123', '-f', join(dir, 'data.ldif')], { stdio: 'pipe' });
  } catch (err) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ldapsUrl,
    ldapUrl,
    caPem: await readFile(join(dir, 'ca.crt'), 'utf8'),
    output,
    stop,
    start,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The directory settings of the test directory (LDAPS unless `startTls`), every group mapped. */
export function directorySettings(d: TestDirectory, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: d.ldapsUrl,
    caPem: d.caPem,
    bindDn: BIND_DN,
    bindPassword: BIND_PASSWORD,
    userBaseDn: `ou=people,${SUFFIX}`,
    userFilter: '(uid={username})',
    groupSearch: 'member',
    groupBaseDn: `ou=groups,${SUFFIX}`,
    roleMappings: [
      { group: GROUPS.admins, role: 'admin' },
      { group: GROUPS.operators, role: 'operator' },
      { group: GROUPS.readers, role: 'read-only' },
    ],
    timeoutMs: 3000,
    cacheSeconds: 0,
    ...over,
  };
}
