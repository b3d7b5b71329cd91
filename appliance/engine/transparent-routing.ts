// The kernel plumbing a transparent proxy VIP needs for its return traffic. The proxy connects
// to a real server from the client's address (IP_TRANSPARENT; HAProxy `usesrc clientip`), so
// the server's reply is addressed to the client, not to this host: routed here (the server's
// gateway is the appliance), it would be forwarded on towards the client and the proxy would
// never see it. Three things hand it to the proxy's socket instead, the kernel's TPROXY recipe:
//
//   nft   table ip lbappliance_transparent: a packet that belongs to a transparent socket of
//         this host (`socket transparent 1`) gets firewall mark TRANSPARENT_MARK;
//   ip rule   fwmark TRANSPARENT_MARK lookup TRANSPARENT_TABLE;
//   ip route  local 0.0.0.0/0 dev lo table TRANSPARENT_TABLE: every marked packet is local.
//
// Only packets of connections the proxy opened transparently are marked, so forwarding and
// the layer 4 VIPs' own tables are untouched. Installed while a transparent VIP exists on the
// active node, removed otherwise; each step checks first, so repeating it changes nothing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The firewall mark of a transparent connection's packets ("LB"). */
export const TRANSPARENT_MARK = 0x4c42;
/** The routing table that makes every marked packet local. */
export const TRANSPARENT_TABLE = 19522;
/** The nftables table this module owns (whole: nothing else writes it). */
export const TRANSPARENT_NFT_TABLE = 'lbappliance_transparent';

const RULESET = `table ip ${TRANSPARENT_NFT_TABLE}
delete table ip ${TRANSPARENT_NFT_TABLE}
table ip ${TRANSPARENT_NFT_TABLE} {
  chain divert {
    type filter hook prerouting priority mangle; policy accept;
    meta l4proto tcp socket transparent 1 meta mark set ${TRANSPARENT_MARK} accept
  }
}
`;

function nft(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, (err, stdout, stderr) => (err ? reject(new Error(`nft ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout)));
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function ip(args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

async function ruleInstalled(): Promise<boolean> {
  const out = await ip(['-4', 'rule', 'show']);
  return new RegExp(`fwmark 0x${TRANSPARENT_MARK.toString(16)} lookup ${TRANSPARENT_TABLE}\\b`).test(out);
}

/** Installs the plumbing (idempotent). Throws with what failed (no root, no nft). */
export async function installTransparentRouting(): Promise<void> {
  await nft(['-f', '-'], RULESET);
  if (!(await ruleInstalled())) await ip(['-4', 'rule', 'add', 'fwmark', String(TRANSPARENT_MARK), 'lookup', String(TRANSPARENT_TABLE)]);
  await ip(['-4', 'route', 'replace', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', String(TRANSPARENT_TABLE)]);
}

/** Removes the plumbing (idempotent; ignores what is not there). */
export async function removeTransparentRouting(): Promise<void> {
  await nft(['delete', 'table', 'ip', TRANSPARENT_NFT_TABLE]).catch(() => undefined);
  while (await ruleInstalled().catch(() => false)) {
    await ip(['-4', 'rule', 'del', 'fwmark', String(TRANSPARENT_MARK), 'lookup', String(TRANSPARENT_TABLE)]);
  }
  await ip(['-4', 'route', 'flush', 'table', String(TRANSPARENT_TABLE)]).catch(() => undefined);
}

/** Whether the plumbing is in place now (all three parts). */
export async function transparentRoutingInstalled(): Promise<boolean> {
  const table = await nft(['list', 'table', 'ip', TRANSPARENT_NFT_TABLE]).then(() => true, () => false);
  if (!table || !(await ruleInstalled())) return false;
  const routes = await ip(['-4', 'route', 'show', 'table', String(TRANSPARENT_TABLE)]);
  return /local default dev lo/.test(routes);
}
