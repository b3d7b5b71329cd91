// Converges an appliance to a desired state through the SDK: creates what is missing,
// replaces what differs, and removes what the deployment owns but no longer wants. Writes
// happen in an order the appliance accepts at every step: certificates first (a VIP needs
// its certificate), unwanted VIPs before new ones (they may hold the address and port a new
// one wants), unused certificates last (one in use cannot be deleted).
import { X509Certificate } from 'node:crypto';
import type { ApplianceClient } from 'lbappliance/sdk';
import { canonicalRealServer, canonicalSnmp, canonicalVirtualService, type DesiredState, type Ownership } from './desired.js';

/** One write the converge made (or, with dryRun, would make). */
export interface Change {
  action: 'create' | 'update' | 'delete';
  kind: 'certificate' | 'virtual service' | 'real server' | 'HA pair' | 'directory' | 'SNMP settings';
  /** The object's label (`AVS`, `AVS/SERVER1`, `ha-pair`). */
  label: string;
}

/** Options of converge. */
export interface ConvergeOptions {
  /** Report the changes without writing (a plan). */
  dryRun?: boolean;
  /** Called with each change as it is made. */
  onChange?: (change: Change) => void;
}

// Compares two JSON values, ignoring the order of object keys.
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// The writable properties of a read object: the keys its canonical body has.
function pick(read: object, like: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(like).map((k) => [k, (read as Record<string, unknown>)[k]]));
}

/** The SHA-256 fingerprint of the first certificate in a PEM text, as the appliance prints it. */
export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256.toUpperCase();
}

/** Brings the appliance to the desired state; returns the changes made (none when it already was). */
export async function converge(client: ApplianceClient, desired: DesiredState, ownership: Ownership, options: ConvergeOptions = {}): Promise<Change[]> {
  const changes: Change[] = [];
  const write = async (change: Change, action: () => Promise<unknown>) => {
    changes.push(change);
    options.onChange?.(change);
    if (!options.dryRun) await action();
  };
  const owned = (address: string) => ownership.addresses.includes(address);

  // Certificates, by label: create, or replace the material when the fingerprint differs.
  const certificates = (await client.listCertificates()).items;
  const certificateIds = new Map(certificates.map((c) => [c.label, c.id]));
  for (const want of desired.certificates) {
    const have = certificates.find((c) => c.label === want.label);
    if (!have) {
      await write({ action: 'create', kind: 'certificate', label: want.label }, async () => certificateIds.set(want.label, (await client.createCertificate({ label: want.label, pem: want.pem })).id));
    } else if (have.fingerprintSha256 !== fingerprintOf(want.pem)) {
      await write({ action: 'update', kind: 'certificate', label: want.label }, () => client.replaceCertificate(have.id, { label: want.label, pem: want.pem }));
    }
  }

  // Virtual services: the owned ones the state no longer has go first.
  const services = (await client.listVirtualServices()).items;
  const wanted = new Set(desired.virtualServices.map((v) => v.spec.label));
  const usedBefore = new Set(services.filter((s) => owned(s.ipAddress) && s.certificateId).map((s) => s.certificateId!));
  for (const have of services) {
    if (owned(have.ipAddress) && !wanted.has(have.label)) {
      await write({ action: 'delete', kind: 'virtual service', label: have.label }, () => client.deleteVirtualService(have.id));
    }
  }
  for (const want of desired.virtualServices) {
    const { certificate, ...rest } = want.spec;
    const certificateId = certificate === undefined ? null : (certificateIds.get(certificate) ?? `(certificate ${certificate})`);
    const body = { ...rest, certificateId };
    const canonical = canonicalVirtualService(body);
    const have = services.find((s) => s.label === want.spec.label);
    let id = have?.id ?? `(new ${want.spec.label})`;
    if (!have) {
      await write({ action: 'create', kind: 'virtual service', label: want.spec.label }, async () => (id = (await client.createVirtualService(body)).id));
    } else if (!same(pick(have, canonical), canonical)) {
      await write({ action: 'update', kind: 'virtual service', label: want.spec.label }, () => client.replaceVirtualService(have.id, body));
    }
    // Its real servers, by label: every one it has belongs to the deployment.
    const servers = have ? (await client.listRealServers(have.id)).items : [];
    const names = new Set(want.realServers.map((r) => r.label));
    for (const rs of servers) {
      if (!names.has(rs.label)) await write({ action: 'delete', kind: 'real server', label: `${want.spec.label}/${rs.label}` }, () => client.deleteRealServer(have!.id, rs.id));
    }
    for (const rsWant of want.realServers) {
      const rsHave = servers.find((s) => s.label === rsWant.label);
      const rsCanonical = canonicalRealServer(rsWant);
      const label = `${want.spec.label}/${rsWant.label}`;
      if (!rsHave) await write({ action: 'create', kind: 'real server', label }, () => client.createRealServer(id, rsWant));
      else if (!same(pick(rsHave, rsCanonical), rsCanonical)) await write({ action: 'update', kind: 'real server', label }, () => client.replaceRealServer(have!.id, rsHave.id, rsWant));
    }
  }

  // Certificates the owned VIPs used and nothing uses any more.
  const stillUsed = new Set(options.dryRun ? [] : (await client.listVirtualServices()).items.map((s) => s.certificateId));
  const keep = new Set(desired.certificates.map((c) => c.label));
  for (const c of certificates) {
    if (usedBefore.has(c.id) && !keep.has(c.label) && !stillUsed.has(c.id)) {
      await write({ action: 'delete', kind: 'certificate', label: c.label }, () => client.deleteCertificate(c.id));
    }
  }

  // The SNMP settings, when the state has them: replaced whole when what can be read differs.
  if (desired.snmp) {
    const want = canonicalSnmp(desired.snmp);
    if (!same(pick(await client.getSnmpSettings(), want), want)) await write({ action: 'update', kind: 'SNMP settings', label: 'snmp' }, () => client.replaceSnmpSettings(desired.snmp!));
  }

  // The HA pair, when the state asks for one: pair a standalone appliance.
  if (desired.haPair) {
    const pair = await client.getHaPair();
    if (pair.state !== 'paired') await write({ action: 'create', kind: 'HA pair', label: 'ha-pair' }, () => client.createHaPair(desired.haPair!));
  }

  // The directory logins, when the state asks for them: written when missing or when a
  // setting the state names differs (the bind password is write-only: it cannot be compared).
  if (desired.directory) {
    const { bindPassword: _secret, ...named } = desired.directory;
    const have = await client.getDirectory().catch((err: { status?: number }) => {
      if (err.status === 404) return null;
      throw err;
    });
    if (!have || !same(pick(have, named), named)) {
      await write({ action: have ? 'update' : 'create', kind: 'directory', label: 'directory' }, () => client.replaceDirectory(desired.directory!));
    }
  }
  return changes;
}
