// A test-owned Postfix (Debian's postfix) as the SMTP relay of the e-mail alert suite: its
// own configuration directory, queue and data directories in a temporary directory, one
// smtpd on the test's loopback address and port with STARTTLS (a certificate the test's CA
// signed) and SMTP AUTH (Cyrus SASL with its own sasldb, filled with saslpasswd2: Debian's
// postfix reads `<config dir>/sasl/smtpd.conf`), and Postfix's virtual delivery agent writing
// every mail for the test's domain to one mbox file per mailbox that the test reads. The
// system's Postfix (if any) is neither used nor touched.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needProgram } from './programs.js';

/** What the relay is given. */
export interface PostfixOptions {
  address: string;
  port: number;
  certFile: string;
  keyFile: string;
  /** The SASL login (user@realm) and its password. */
  login: { user: string; realm: string; password: string };
  /** Local part of the one mailbox, in domain `hospital.test`. */
  mailbox: string;
}

/** A running test relay. */
export interface TestPostfix {
  dir: string;
  /** The mails delivered to the mailbox so far (raw, as the mbox file holds them). */
  mails(): string[];
  /** Postfix's own log. */
  log(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

const MASTER_CF = `pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
`;

async function listening(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, address, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function until(what: string, ok: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`postfix: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the relay; resolves once its smtpd listens. */
export async function startPostfix(o: PostfixOptions): Promise<TestPostfix> {
  const postfix = needProgram('postfix');
  const saslpasswd2 = needProgram('saslpasswd2');
  const dir = mkdtempSync(join(tmpdir(), 'lb-postfix-'));
  chmodSync(dir, 0o755);
  const conf = join(dir, 'conf');
  for (const d of ['conf', 'conf/sasl', 'queue', 'data', 'mail']) mkdirSync(join(dir, d), { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).trim());
  writeFileSync(
    join(conf, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.lbappliance.test
mydomain = lbappliance.test
myorigin = lbappliance.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks =
maillog_file_prefixes = ${dir}
maillog_file = ${dir}/maillog
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = hospital.test
virtual_mailbox_base = ${dir}/mail
virtual_mailbox_maps = texthash:${conf}/vmailbox
virtual_uid_maps = static:${uid}
virtual_gid_maps = static:${gid}
smtpd_tls_cert_file = ${o.certFile}
smtpd_tls_key_file = ${o.keyFile}
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = ${o.login.realm}
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
`,
  );
  writeFileSync(join(conf, 'master.cf'), `${o.address}:${o.port} inet n - n - - smtpd\n${MASTER_CF}`);
  writeFileSync(join(conf, 'vmailbox'), `${o.mailbox}@hospital.test ${o.mailbox}\n`);
  const sasldb = join(conf, 'sasl', 'sasldb2');
  writeFileSync(join(conf, 'sasl', 'smtpd.conf'), `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: ${sasldb}\nmech_list: PLAIN LOGIN\n`);
  execFileSync(saslpasswd2, ['-p', '-f', sasldb, '-c', '-u', o.login.realm, o.login.user], { input: o.login.password });
  chownSync(sasldb, uid, gid);
  for (const d of ['mail', 'data']) chownSync(join(dir, d), uid, gid);
  const start = async () => {
    execFileSync(postfix, ['-c', conf, 'start'], { stdio: 'ignore' });
    await until('smtpd to listen', () => listening(o.address, o.port));
  };
  const stop = async () => {
    try {
      execFileSync(postfix, ['-c', conf, 'stop'], { stdio: 'ignore' });
    } catch {
      return; // not running
    }
    await until('smtpd to stop', async () => !(await listening(o.address, o.port)));
  };
  await start();
  return {
    dir,
    mails() {
      let text = '';
      try {
        text = readFileSync(join(dir, 'mail', o.mailbox), 'utf8');
      } catch {
        return [];
      }
      return text.split(/^(?=From \S+ {1,2}\w{3} \w{3} )/m).filter((m) => m.trim() !== '');
    },
    log() {
      try {
        return readFileSync(join(dir, 'maillog'), 'utf8');
      } catch {
        return '';
      }
    },
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
