// The program every Pulumi scenario runs, written into a temporary project directory with
// the package and the SDK linked into its node_modules (as an installed project has them),
// so the test engine and the real CLI run the very same files. Stack config switches its
// parts on: the weight of the one real server, a VIP whose address comes from another
// resource's output, an explicit provider to a second appliance, an import.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../helpers/paths.js';

/** The scenarios' loopback network (this suite's range, 127.0.220.0/22 and up). */
export const NET = '127.0.220';

/** The program (ES module JavaScript, run as it is: no TypeScript step). */
export const PROGRAM = `import * as pulumi from '@pulumi/pulumi';
import * as lb from 'lbappliance/pulumi';

const config = new pulumi.Config();
const net = config.require('network');

// A component grouping the VIP and its server: children's URNs carry its type.
class Service extends pulumi.ComponentResource {
  constructor(name, args, opts) {
    super('scenario:index:Service', name, {}, opts);
    this.vip = new lb.VirtualService('aqi', { label: 'scn-aqi', ipAddress: net + '.10', ports: [1200], protocol: 'tcp' }, { parent: this });
    this.server = new lb.RealServer('server1', { virtualServiceId: this.vip.id, label: 'SERVER1', address: net + '.20', port: 1200, weight: args.weight }, { parent: this, dependsOn: args.dependsOn });
    this.registerOutputs({ vipId: this.vip.id });
  }
}

// The key is a secret from the stack config to the appliance.
const tls = new lb.Certificate('tls', { label: 'scn-tls', certificatePem: config.require('certificatePem'), privateKeyPem: config.requireSecret('privateKeyPem') });
const service = new Service('service', { weight: config.getNumber('weight') ?? 1, dependsOn: [tls] });

if (config.getBoolean('chained')) {
  // A VIP whose address comes from another resource's output: unknown in a preview until that resource exists.
  const front = new lb.VirtualService('front', { label: 'scn-front', ipAddress: net + '.11', ports: [1201], protocol: 'tcp' });
  new lb.VirtualService('chained', { label: 'scn-chained', ipAddress: front.id.apply(() => net + '.12'), ports: [1202], protocol: 'tcp' });
}

if (config.get('explicitEndpoint')) {
  // An explicit provider beside the default one (which comes from the stack's lbappliance:* config).
  const other = new lb.Provider('other-appliance', { endpoint: config.require('explicitEndpoint'), password: config.requireSecret('explicitPassword'), insecure: true });
  new lb.VirtualService('elsewhere', { label: 'scn-elsewhere', ipAddress: net + '.13', ports: [1203], protocol: 'tcp' }, { provider: other });
}

const importId = config.get('importId');
if (importId) {
  new lb.VirtualService('adopted', { label: 'scn-adopted', ipAddress: net + '.14', ports: [1204], protocol: 'tcp' }, { import: importId });
}

export const vipId = service.vip.id;
export const fingerprint = tls.fingerprintSha256;
`;

/** Writes the project (this program, or another) into a new temporary directory; answers its path. */
export async function writeProject(name = 'lbappliance-scenarios', program = PROGRAM): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lbappliance-pulumi-scenarios-'));
  await mkdir(join(dir, 'node_modules', '@pulumi'), { recursive: true });
  await symlink(ROOT, join(dir, 'node_modules', 'lbappliance'));
  await symlink(join(ROOT, 'node_modules', '@pulumi', 'pulumi'), join(dir, 'node_modules', '@pulumi', 'pulumi'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, type: 'module', main: 'index.js', dependencies: { lbappliance: '*', '@pulumi/pulumi': '*' } }));
  await writeFile(join(dir, 'Pulumi.yaml'), `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\nplugins:\n  providers:\n    - name: lbappliance\n      path: ${join(ROOT, 'bin')}\n`);
  await writeFile(join(dir, 'index.js'), program);
  return dir;
}
