// A VIP the appliance stores but cannot listen on (an address this host does not have:
// EADDRNOTAVAIL, accepted by design; docs/terraform.md) is a warning diagnostic of the real
// `terraform apply` on that resource, after a create and after an update (issue 16), so a
// pipeline can fail on it as docs/terraform.md shows (`-json`, diagnostics of severity
// warning); a VIP that listens gets none. Addresses 127.0.205.5x and 2001:db8::205 belong to
// this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { createWorkspace, expectCode, type TfResult, type TfWorkspace } from './helpers/terraform.js';

let app: TestAppliance;
let tf: TfWorkspace;

beforeAll(async () => {
  app = await startTestAppliance({ engine: 'embedded' });
  tf = await createWorkspace(app);
});
afterAll(async () => {
  await tf?.dispose();
  await app?.dispose();
});

function config(away: { ip: string; port: number }): string {
  return `
resource "lbappliance_virtual_service" "here" {
  label      = "HERE"
  ip_address = "127.0.205.51"
  ports      = [8080]
  protocol   = "http"
}

resource "lbappliance_virtual_service" "away" {
  label      = "AWAY"
  ip_address = "${away.ip}"
  ports      = [${away.port}]
  protocol   = "http"
}
`;
}

interface Diagnostic {
  severity: string;
  summary: string;
  detail: string;
  address?: string;
}

/**
 * The warnings of a `-json` run that concern a resource, as the pipeline in docs/terraform.md
 * selects them (the test's dev_overrides add a warning of their own, on no resource).
 */
function resourceWarnings(result: TfResult): Diagnostic[] {
  return result.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; diagnostic?: Diagnostic })
    .filter((m) => m.type === 'diagnostic' && m.diagnostic?.severity === 'warning' && m.diagnostic.address !== undefined)
    .map((m) => m.diagnostic as Diagnostic);
}

describe('a virtual service that cannot listen', () => {
  it('applies, with a warning diagnostic on that resource naming the reason', async () => {
    await tf.write(config({ ip: '2001:db8::205', port: 8080 }));
    const applied = await tf.apply(['-json']);
    expectCode(applied, 0, 'apply');
    const warnings = resourceWarnings(applied);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ summary: 'Virtual service AWAY is not listening', address: 'lbappliance_virtual_service.away' });
    expect(warnings[0]?.detail).toMatch(/does not listen on 2001:db8::205 port 8080: .*EADDRNOTAVAIL.*\[LBP_VIP_NOT_LISTENING\]$/);
    // Stored, as documented: an HA takeover or the network team may add the address.
    const away = (await app.client().listVirtualServices({ query: { label: 'AWAY' } })).items[0];
    expect(away?.status).toMatchObject({ state: 'down', listening: false });
  });

  it('warns again on an update that leaves it unbindable, in the human output too', async () => {
    await tf.write(config({ ip: '2001:db8::205', port: 8081 }));
    const applied = await tf.apply();
    expectCode(applied, 0, 'apply');
    expect(applied.output).toMatch(/Warning: Virtual service AWAY is not listening/);
    expect(applied.output).toMatch(/with lbappliance_virtual_service\.away/);
    expect(applied.output).toMatch(/Apply complete! Resources: 0 added, 1 changed, 0 destroyed/);
  });

  it('gives no warning once it can listen', async () => {
    await tf.write(config({ ip: '127.0.205.52', port: 8081 }));
    const applied = await tf.apply(['-json']);
    expectCode(applied, 0, 'apply');
    expect(resourceWarnings(applied)).toEqual([]);
    const destroyed = await tf.destroy();
    expectCode(destroyed, 0, 'destroy');
  });
});
