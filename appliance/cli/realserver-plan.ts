// What a real server behind a layer 4 VIP needs, as data: the one description both the
// printout (`lbappliance realserver`) and `--apply` work from, so what is printed is exactly
// what would be applied. Direct routing needs the VIP on the loopback interface and the
// server kept from answering ARP for it ("solving the ARP problem"); NAT needs the server's
// default route through the appliance; SNAT needs nothing.

/** The forwarding methods a real server can be set up for (the contract's layer 4 values). */
export const SERVER_MODES = ['direct-routing', 'nat', 'snat'] as const;
/** One of SERVER_MODES. */
export type ServerMode = (typeof SERVER_MODES)[number];

/** One kernel setting: `key` under /proc/sys, the value to set, and the values that are already good enough. */
export interface SysctlStep {
  kind: 'sysctl';
  key: string;
  value: number;
  /** Values left alone (for rp_filter: 0 and 2 both let a DR packet in). */
  accept: number[];
  why: string;
}

/** A /32 address on an interface (the VIP on `lo` for direct routing). */
export interface AddressStep {
  kind: 'address';
  address: string;
  device: string;
  why: string;
}

/** The default route through a gateway (the appliance, for NAT). */
export interface RouteStep {
  kind: 'route';
  via: string;
  why: string;
}

/** One step of a Linux real server's setup. */
export type LinuxStep = SysctlStep | AddressStep | RouteStep;

/** What the command was asked to set up. */
export interface ServerRequest {
  /** The layer 4 methods of the VIPs this server sits behind. */
  modes: ServerMode[];
  /** The VIP addresses (direct routing puts each on `lo`). */
  vips: string[];
  /** The interface that faces the appliance (the ARP and rp_filter settings apply to it and to `all`). */
  iface: string;
  /** The appliance's address on the servers' network (the NAT default route), if known. */
  gateway?: string;
}

/** The Linux steps for a request, in the order they must be applied. */
export function linuxSteps(req: ServerRequest): LinuxStep[] {
  const steps: LinuxStep[] = [];
  if (req.modes.includes('direct-routing')) {
    // The kernel uses the larger of `all` and the interface's value for arp_ignore and arp_announce,
    // so both are set: one alone can be undone by the other.
    for (const scope of ['all', req.iface]) {
      steps.push({
        kind: 'sysctl',
        key: `net.ipv4.conf.${scope}.arp_ignore`,
        value: 1,
        accept: [1],
        why: 'answer ARP only for addresses on the interface asked (never for the VIP on lo)',
      });
      steps.push({
        kind: 'sysctl',
        key: `net.ipv4.conf.${scope}.arp_announce`,
        value: 2,
        accept: [2],
        why: 'never use the VIP as the source of this server\'s own ARP requests',
      });
    }
    // Strict reverse-path filtering (1) drops a request to the VIP whenever the way back to the client
    // leaves by another interface (two-arm, several NICs); the kernel uses the larger of `all` and the
    // interface, so both must be loose (2) or off (0).
    for (const scope of ['all', req.iface]) {
      steps.push({
        kind: 'sysctl',
        key: `net.ipv4.conf.${scope}.rp_filter`,
        value: 2,
        accept: [0, 2],
        why: 'loose reverse-path filtering: accept the VIP\'s packets whichever way the client is routed',
      });
    }
    for (const vip of req.vips) {
      steps.push({ kind: 'address', address: vip, device: 'lo', why: 'accept packets for the VIP (the appliance only rewrote their MAC)' });
    }
  }
  if (req.modes.includes('nat') && req.gateway !== undefined) {
    steps.push({ kind: 'route', via: req.gateway, why: 'replies to clients must return through the appliance, which undoes the NAT' });
  }
  return steps;
}

/** A step as the shell command that applies it. */
export function shellOf(step: LinuxStep): string {
  switch (step.kind) {
    case 'sysctl':
      return `sysctl -w ${step.key}=${step.value}`;
    case 'address':
      return `ip addr add ${step.address}/${step.address.includes(':') ? 128 : 32} dev ${step.device}`;
    case 'route':
      return `ip route replace default via ${step.via}`;
  }
}

const NAT_NOTE = (gateway: string | undefined) =>
  gateway === undefined
    ? [
        '# NAT: the server sees the client\'s own address, so its replies must go back through the appliance,',
        '# which undoes the address translation. Make the appliance\'s address on this network the default',
        '# gateway (two-arm), or route the client networks through it (one-arm):',
        '#   ip route replace default via APPLIANCE_ADDRESS',
        '# (give --gateway APPLIANCE_ADDRESS to have this command print or apply it).',
      ]
    : [
        '# NAT: the server sees the client\'s own address, so its replies must go back through the appliance',
        `# (${gateway}), which undoes the address translation: it becomes the default gateway.`,
      ];

const SNAT_NOTE = [
  '# SNAT: nothing to change on the server. It sees the appliance\'s address as the client, and',
  '# answers it by its ordinary routes.',
];

/** The printout for a Linux real server: the commands, why, and how to keep them across reboots. */
export function linuxText(req: ServerRequest): string {
  const steps = linuxSteps(req);
  const lines: string[] = [`# Linux real server for ${describe(req)}`, ''];
  if (req.modes.includes('direct-routing')) {
    lines.push(
      '# Direct routing: the appliance rewrites only the destination MAC address, so packets arrive here',
      '# still addressed to the VIP. The server must own the VIP (on lo, so it never answers ARP for it:',
      '# only the appliance may) and reply from it straight to the client.',
    );
  }
  if (req.modes.includes('nat')) lines.push(...NAT_NOTE(req.gateway));
  if (req.modes.includes('snat')) lines.push(...SNAT_NOTE);
  if (steps.length > 0) {
    lines.push('', '# Run as root (or: lbappliance realserver ... --apply):');
    for (const step of steps) lines.push(`${shellOf(step)}    # ${step.why}`);
  }
  const sysctls = steps.filter((s): s is SysctlStep => s.kind === 'sysctl');
  const addresses = steps.filter((s): s is AddressStep => s.kind === 'address');
  if (sysctls.length > 0 || addresses.length > 0) lines.push('', '# To keep it across reboots:');
  if (sysctls.length > 0) {
    lines.push('# /etc/sysctl.d/90-lbappliance-realserver.conf');
    for (const s of sysctls) lines.push(`#   ${s.key} = ${s.value}`);
  }
  if (addresses.length > 0) {
    lines.push('# /etc/network/interfaces.d/lbappliance-vips (ifupdown; with systemd-networkd, Address= lines in lo\'s .network file)');
    lines.push('#   auto lo', '#   iface lo inet loopback');
    for (const a of addresses) lines.push(`#       up ip addr add ${a.address}/32 dev lo || true`);
  }
  if (req.modes.includes('direct-routing')) {
    lines.push('', '# The service must listen on the VIP too (0.0.0.0, or the VIP itself), on the VIP\'s own port:', '# direct routing cannot translate ports.');
  }
  return `${lines.join('\n')}\n`;
}

/** The printout for a Windows real server (Windows Server 2012 and later). */
export function windowsText(req: ServerRequest): string {
  const lines: string[] = [`# Windows real server for ${describe(req)}`, ''];
  if (req.modes.includes('direct-routing')) {
    const vips = req.vips.length > 0 ? req.vips.join(', ') : 'the VIP';
    lines.push(
      'Direct routing: the server must accept packets addressed to the VIP without answering ARP for it.',
      'Make sure Windows NLB (Network Load Balancing) is disabled.',
      '',
      '1. Install the Microsoft KM-TEST Loopback Adapter: Device Manager > Action > Add legacy hardware >',
      '   Network adapters > Microsoft > Microsoft KM-TEST Loopback Adapter',
      '   (or, PowerShell as administrator: Install-Module LoopbackAdapter; New-LoopbackAdapter -Name loopback).',
      '2. Rename the server\'s own network connection "net" and the loopback adapter "loopback"',
      '   (Control Panel > Network Connections, or Rename-NetAdapter).',
      `3. On "loopback", set IPv4 address ${vips} with subnet mask 255.255.255.255, no gateway, and`,
      '   untick "Register this connection\'s addresses in DNS"; untick every item but IPv4.',
      '4. Windows\' strong host model drops a packet for the VIP arriving on "net" and will not answer from',
      '   it; allow both (the "weak host" model), in an administrator command prompt:',
      '     netsh interface ipv4 set interface "net" weakhostreceive=enabled',
      '     netsh interface ipv4 set interface "loopback" weakhostreceive=enabled',
      '     netsh interface ipv4 set interface "loopback" weakhostsend=enabled',
      '   (IPv6 VIPs: the same three with "ipv6").',
      '5. The service must listen on the VIP too (all addresses, or the VIP itself), on the VIP\'s own port.',
      '6. Check: from another host, arp -a after a ping of the VIP must show the appliance\'s MAC, not this server\'s.',
    );
  }
  if (req.modes.includes('nat')) {
    lines.push(
      '',
      'NAT: the server sees the client\'s own address, so its replies must go back through the appliance.',
      `Set the default gateway of the server's network connection to ${req.gateway ?? 'the appliance\'s address on this network'}`,
      `(route -p add 0.0.0.0 mask 0.0.0.0 ${req.gateway ?? 'APPLIANCE_ADDRESS'}, after removing the old default route).`,
    );
  }
  if (req.modes.includes('snat')) lines.push('', 'SNAT: nothing to change on the server; it sees the appliance\'s address as the client.');
  return `${lines.join('\n')}\n`;
}

function describe(req: ServerRequest): string {
  const names = { 'direct-routing': 'direct routing (DR)', nat: 'NAT', snat: 'SNAT' } as const;
  const modes = req.modes.map((m) => names[m]).join(' + ');
  return req.vips.length > 0 ? `${modes}: VIP ${req.vips.join(', ')}` : modes;
}
