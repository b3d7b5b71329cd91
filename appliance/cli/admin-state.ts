// `lbappliance drain|halt|online VIP RIP`: a real server's administrative state, with the
// VIP and the server named by label (as operators know them) or by id.
import { parseArgs } from 'node:util';
import type { ApplianceClient, RealServer, VirtualService } from '../../openapi/sdk/index.js';
import { CliError } from './cli-error.js';
import { CONNECTION_OPTIONS, withAppliance } from './connection.js';

/** The administrative states a command sets. */
export type AdminState = 'online' | 'drain' | 'halt';

const VS_ID = /^vs-[0-9a-f]{12}$/;
const RS_ID = /^rs-[0-9a-f]{12}$/;
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const WORD: Record<AdminState, string> = { online: 'online', drain: 'draining', halt: 'halted' };

/** A virtual service by id or label (LB_CLI_NOT_FOUND naming the known ones otherwise). */
export async function findVirtualService(client: ApplianceClient, ref: string): Promise<VirtualService> {
  if (VS_ID.test(ref)) {
    const byId = (await client.listVirtualServices()).items.find((v) => v.id === ref);
    if (byId) return byId;
  } else if (LABEL.test(ref)) {
    const [byLabel] = (await client.listVirtualServices({ query: { label: ref } })).items;
    if (byLabel) return byLabel;
  }
  const known = (await client.listVirtualServices()).items.map((v) => v.label).sort();
  throw new CliError(`no virtual service "${ref}" (by label or id); there are: ${known.join(', ') || 'none'}`, 'LB_CLI_NOT_FOUND');
}

/** A real server of a virtual service by id or label. */
export async function findRealServer(client: ApplianceClient, vs: VirtualService, ref: string): Promise<RealServer> {
  const servers = (await client.listRealServers(vs.id)).items;
  const found = servers.find((rs) => (RS_ID.test(ref) ? rs.id === ref : rs.label === ref));
  if (found) return found;
  throw new CliError(`virtual service ${vs.label} has no real server "${ref}" (by label or id); it has: ${servers.map((s) => s.label).join(', ') || 'none'}`, 'LB_CLI_NOT_FOUND');
}

/** Runs `drain`, `halt` or `online`. */
export async function setAdminState(state: AdminState, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_OPTIONS }, strict: true, allowPositionals: true });
  if (positionals.length !== 2) throw new CliError(`usage: lbappliance ${state} VIP RIP  (each by label or id)`);
  const [vipRef, ripRef] = positionals as [string, string];
  const line = await withAppliance(values, `${state} ${ripRef} on ${vipRef}`, async ({ client }) => {
    const vs = await findVirtualService(client, vipRef);
    const rs = await findRealServer(client, vs, ripRef);
    if (rs.adminState === state) return `${rs.label} on ${vs.label} is already ${WORD[state]}`;
    // The operation operators may call too (updateRealServer is for administrators).
    const after = await client.setRealServerAdminState(vs.id, rs.id, { adminState: state });
    return `${after.label} on ${vs.label}: ${WORD[rs.adminState]} -> ${WORD[after.adminState]}`;
  });
  process.stdout.write(`${line}\n`);
}
