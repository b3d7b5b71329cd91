// `lbappliance realserver`: what a real server behind a layer 4 VIP needs, printed for Linux or
// Windows, and on Linux applied with `--apply`. The VIPs come from `--vip` or, with
// `--from-appliance`, from the appliance's own configuration (its layer 4 VIPs, or those a
// given server address sits behind), so the server side cannot drift from what the appliance
// forwards.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { CliError } from './cli-error.js';
import { CONNECTION_OPTIONS, withAppliance } from './connection.js';
import { applySteps, defaultRouteInterface } from './realserver-apply.js';
import { linuxSteps, linuxText, SERVER_MODES, type ServerMode, type ServerRequest, windowsText } from './realserver-plan.js';

/** The command's own usage (also part of `lbappliance --help`). */
export const REALSERVER_USAGE = `lbappliance realserver: set up a real server behind a layer 4 VIP

  lbappliance realserver [--mode direct-routing|nat|snat] --vip ADDR [--vip ADDR ...]
                         [--interface IFACE] [--gateway ADDR] [--os linux|windows] [--apply]
  lbappliance realserver --from-appliance [--server ADDR] [connection flags] [--apply] ...

  --mode            how the VIP forwards (default direct-routing; dr is short for it)
  --vip             a VIP address (direct routing puts it on lo)
  --interface       the interface facing the appliance (default: that of the default route)
  --gateway         the appliance's address on this network (NAT: the default route)
  --from-appliance  take the VIPs and modes from the appliance's layer 4 VIPs
  --server          with --from-appliance: only the VIPs this real server address is behind
  --os              print the steps for linux (default) or windows
  --apply           apply the Linux steps on this host (root); a second run changes nothing
`;

interface Layer4Vip {
  label: string;
  ipAddress: string;
  mode: ServerMode;
}

function modeOf(text: string): ServerMode {
  const mode = text === 'dr' ? 'direct-routing' : text;
  if (!(SERVER_MODES as readonly string[]).includes(mode)) throw new CliError(`--mode takes direct-routing (dr), nat or snat, not "${text}"`);
  return mode as ServerMode;
}

function checkAddress(flag: string, value: string): string {
  if (isIP(value) === 0) throw new CliError(`${flag} takes an IP address, not "${value}"`);
  return value;
}

/** The appliance's layer 4 VIPs (those a server address is behind, when given). */
async function vipsFromAppliance(flags: Parameters<typeof withAppliance>[0], server: string | undefined): Promise<Layer4Vip[]> {
  const config = await withAppliance(flags, 'read the configuration', ({ client }) => client.getConfig());
  const behind = new Set(
    Object.values(config.realServers)
      .filter((rs) => server === undefined || rs.address === server)
      .map((rs) => rs.virtualServiceId),
  );
  const vips: Layer4Vip[] = [];
  for (const [id, vs] of Object.entries(config.virtualServices)) {
    // `forwarding` arrives with the layer 4 contract; a VIP without it is a proxy VIP.
    const forwarding = (vs as { forwarding?: string }).forwarding ?? 'proxy';
    if (!(SERVER_MODES as readonly string[]).includes(forwarding)) continue;
    if (server !== undefined && !behind.has(id)) continue;
    vips.push({ label: vs.label, ipAddress: vs.ipAddress, mode: forwarding as ServerMode });
  }
  return vips;
}

/** Runs `realserver`. */
export async function realserver(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CONNECTION_OPTIONS,
      mode: { type: 'string' },
      vip: { type: 'string', multiple: true },
      interface: { type: 'string' },
      gateway: { type: 'string' },
      os: { type: 'string', default: 'linux' },
      apply: { type: 'boolean' },
      'from-appliance': { type: 'boolean' },
      server: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(REALSERVER_USAGE);
    return;
  }
  if (values.os !== 'linux' && values.os !== 'windows') throw new CliError(`--os takes linux or windows, not "${values.os}"`);
  if (values.apply && values.os !== 'linux') throw new CliError('--apply sets up this Linux host; for Windows, follow the printed steps');
  const gateway = values.gateway === undefined ? undefined : checkAddress('--gateway', values.gateway);
  if (values.server !== undefined) checkAddress('--server', values.server);

  let modes: ServerMode[];
  let vips: string[];
  if (values['from-appliance']) {
    if (values.vip !== undefined || values.mode !== undefined) throw new CliError('--from-appliance takes the VIPs and their modes from the appliance: leave out --vip and --mode');
    const found = await vipsFromAppliance(values, values.server);
    if (found.length === 0) {
      const which = values.server === undefined ? '' : ` with a real server at ${values.server}`;
      throw new CliError(`the appliance has no layer 4 VIP${which} (forwarding direct-routing, nat or snat)`, 'LB_CLI_NOT_FOUND');
    }
    modes = SERVER_MODES.filter((m) => found.some((v) => v.mode === m));
    vips = [...new Set(found.filter((v) => v.mode === 'direct-routing').map((v) => v.ipAddress))];
    process.stdout.write(`# from the appliance: ${found.map((v) => `${v.label} ${v.ipAddress} (${v.mode})`).join(', ')}\n`);
  } else {
    modes = [modeOf(values.mode ?? 'direct-routing')];
    vips = (values.vip ?? []).map((v) => checkAddress('--vip', v));
    if (modes[0] === 'direct-routing' && vips.length === 0) throw new CliError('direct routing needs the VIP: give --vip ADDR (or --from-appliance)');
  }

  if (values.os === 'windows') {
    process.stdout.write(windowsText({ modes, vips, iface: values.interface ?? 'net', gateway }));
    return;
  }
  const iface = values.interface ?? (await defaultRouteInterface());
  if (iface === null) {
    if (values.apply && modes.includes('direct-routing')) throw new CliError('this host has no default route: name the interface facing the appliance with --interface');
  }
  const req: ServerRequest = { modes, vips, iface: iface ?? 'IFACE', gateway };
  if (!values.apply) {
    process.stdout.write(linuxText(req));
    return;
  }
  const outcomes = await applySteps(linuxSteps(req));
  for (const o of outcomes) process.stdout.write(`${o.note}\n`);
  const changed = outcomes.filter((o) => o.changed).length;
  process.stdout.write(changed === 0 ? 'nothing to change: this host is already set up\n' : `${changed} change(s) applied; run without --apply for how to keep them across reboots\n`);
  if (modes.includes('nat') && gateway === undefined) process.stdout.write('NAT: give --gateway APPLIANCE_ADDRESS to route replies through the appliance\n');
}
