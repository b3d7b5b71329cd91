// The command line of the examples' SDK scripts: `node sdk.js SETTINGS.json [--plan|--destroy]`.
// The appliance comes from the same environment variables the Terraform provider and the
// Pulumi plugin read (LBAPPLIANCE_ENDPOINT, _USERNAME, _PASSWORD, _CA_PEM, _INSECURE); the
// settings file holds the deployment's addresses, servers and certificate files, like a
// terraform.tfvars.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApplianceClient } from 'lbappliance/sdk';
import { converge, type Change } from './converge.js';
import type { DesiredState, Ownership } from './desired.js';

/** A deployment an SDK script describes: its desired state and what it owns, from its settings. */
export interface Deployment<S> {
  /** What the deployment is, for messages. */
  name: string;
  desired(settings: S): DesiredState;
  ownership(settings: S): Ownership;
}

/** An SDK client from the LBAPPLIANCE_* environment variables. */
export function clientFromEnvironment(env: NodeJS.ProcessEnv = process.env): ApplianceClient {
  const endpoint = env.LBAPPLIANCE_ENDPOINT;
  if (!endpoint) throw new Error('set LBAPPLIANCE_ENDPOINT (and LBAPPLIANCE_PASSWORD) to the appliance to deploy to');
  return new ApplianceClient({
    endpoint,
    username: env.LBAPPLIANCE_USERNAME ?? 'loadbalancer',
    password: env.LBAPPLIANCE_PASSWORD,
    ...(env.LBAPPLIANCE_CA_PEM ? { caPem: env.LBAPPLIANCE_CA_PEM } : {}),
    insecure: env.LBAPPLIANCE_INSECURE === 'true' || env.LBAPPLIANCE_INSECURE === '1',
  });
}

/** Reads a PEM certificate file and its private key file into the one PEM text the API takes. */
export async function readCertificatePem(certificateFile: string, privateKeyFile: string): Promise<string> {
  const [cert, key] = await Promise.all([readFile(certificateFile, 'utf8'), readFile(privateKeyFile, 'utf8')]);
  return `${cert.trimEnd()}\n${key.trimEnd()}\n`;
}

/** Runs an SDK script: converge (default), `--plan` (print what would change) or `--destroy` (remove what it owns). */
export async function runDeployment<S>(deployment: Deployment<S>, loadSettings: (file: string, dir: string) => Promise<S>, argv: string[] = process.argv.slice(2)): Promise<Change[]> {
  const { values, positionals } = parseArgs({ args: argv, options: { plan: { type: 'boolean' }, destroy: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new Error(`usage: node sdk.js SETTINGS.json [--plan|--destroy]  (deploys ${deployment.name})`);
  const file = resolve(positionals[0]!);
  const settings = await loadSettings(file, dirname(file));
  const client = clientFromEnvironment();
  try {
    const desired: DesiredState = values.destroy ? { certificates: [], virtualServices: [] } : deployment.desired(settings);
    const { haPair: wantedPair, directory: wantedDirectory, snmp: wantedSnmp } = deployment.desired(settings);
    const changes = await converge(client, desired, deployment.ownership(settings), {
      dryRun: values.plan,
      onChange: (c) => console.log(`${values.plan ? 'would ' : ''}${c.action} ${c.kind} ${c.label}`),
    });
    // The SNMP settings are the deployment's when it has them: destroy turns SNMP off.
    if (values.destroy && wantedSnmp && (await client.getSnmpSettings()).enabled) {
      console.log(`${values.plan ? 'would ' : ''}delete SNMP settings snmp`);
      if (!values.plan) await client.replaceSnmpSettings({});
    }
    // The pair is the deployment's when its settings ask for one: destroy breaks it.
    if (values.destroy && wantedPair && (await client.getHaPair()).state === 'paired') {
      console.log(`${values.plan ? 'would ' : ''}delete HA pair ha-pair`);
      if (!values.plan) await client.deleteHaPair();
    }
    // So are the directory logins.
    if (values.destroy && wantedDirectory && (await client.getDirectory().then(() => true, () => false))) {
      console.log(`${values.plan ? 'would ' : ''}delete directory directory`);
      if (!values.plan) await client.deleteDirectory();
    }
    console.log(changes.length === 0 ? `${deployment.name}: no changes.` : `${deployment.name}: ${changes.length} change(s)${values.plan ? ' planned' : ''}.`);
    return changes;
  } finally {
    await client.close();
  }
}
