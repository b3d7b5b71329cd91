// Two appliance processes on this machine for HA tests: each on its own management address
// (127.0.100.x, an address no other suite uses), sharing the VIP addresses (127.0.101.x),
// with the embedded engine. Each test file takes its own block of addresses so files can run
// side by side.
import type { ApplianceClient } from '../../../openapi/sdk/index.js';
import type { components } from '../../../openapi/generated/types.js';
import { startTestAppliance, type TestAppliance, type TestApplianceOptions } from '../../helpers/appliance-process.js';
import { until } from '../../engine/helpers/wait.js';

export { until };

/** The password each node starts with; after pairing the secondary takes the primary's. */
export const PRIMARY_PASSWORD = 'primary-password-0123456';
/** The secondary's own password (used once, to pair). */
export const SECONDARY_PASSWORD = 'secondary-password-0123456';

/** The addresses of one test file: management addresses of the two nodes, VIP and backends. */
export interface PairAddresses {
  a: string;
  b: string;
  vip: string;
  backends: string[];
}

/** Block `n` (1..9) of addresses: nodes 127.0.100.n1 and .n2, VIP 127.0.101.n0, backends 127.0.101.n1.. */
export function addressBlock(n: number): PairAddresses {
  return { a: `127.0.100.${n}1`, b: `127.0.100.${n}2`, vip: `127.0.101.${n}0`, backends: [1, 2, 3].map((i) => `127.0.101.${n}${i}`) };
}

/** Starts one node on its management address. */
export function startNode(host: string, password: string, extra: Partial<TestApplianceOptions> = {}): Promise<TestAppliance> {
  return startTestAppliance({ host, port: 9443, engine: 'embedded', password, ...extra });
}

const clients = new WeakMap<TestAppliance, Map<string, ApplianceClient>>();

/** A client of a node with the pair's (the primary's) password (one per node and password). */
export function clientOf(node: TestAppliance, password = PRIMARY_PASSWORD): ApplianceClient {
  let byPassword = clients.get(node);
  if (!byPassword) clients.set(node, (byPassword = new Map()));
  let client = byPassword.get(password);
  if (!client) byPassword.set(password, (client = node.client({ password })));
  return client;
}

/** Pairs `a` (primary) with `b` (secondary). */
export async function pair(a: TestAppliance, b: TestAppliance, settings: Partial<components['schemas']['HaPairInput']> = {}) {
  return clientOf(a).createHaPair({ peerEndpoint: b.endpoint, peerPassword: SECONDARY_PASSWORD, ...settings });
}

/** The HA state of a node ('active' / 'passive' / 'standalone'), or null if its API does not answer. */
export async function stateOf(node: TestAppliance, password = PRIMARY_PASSWORD): Promise<string | null> {
  try {
    return (await clientOf(node, password).getHaStatus()).state;
  } catch {
    return null;
  }
}
