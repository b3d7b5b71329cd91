// ImagingVirtualServices: a vendor profile deployed as resources. One VirtualService per
// row of the profile's VIP table on the shared address (or the row's own address), and one
// RealServer per server on each VIP that serves any, so a hospital's whole imaging
// deployment is one resource in a program.
import * as pulumi from '@pulumi/pulumi';
import { RealServer, VirtualService } from './generated/index.js';
import type { VendorProfile } from './vendor-profile.js';

/** A backend imaging server. */
export interface ImagingServer {
  label: string;
  address: pulumi.Input<string>;
  /** The server's port when it differs from the VIP's (port translation). */
  port?: pulumi.Input<number>;
  weight?: pulumi.Input<number>;
  /** Used only when every non-backup server is down (failover mode). */
  backup?: pulumi.Input<boolean>;
}

/** The arguments of {@link ImagingVirtualServices}. */
export interface ImagingVirtualServicesArgs {
  /** The vendor's VIP table (teraRecon, agfaEnterpriseImaging, insignia(...), or your own). */
  profile: VendorProfile & { failover?: boolean };
  /** The address the VIPs share. */
  address: pulumi.Input<string>;
  /** Addresses by row key, for rows marked `ownAddress` (required for those) or to move any row. */
  addresses?: Record<string, pulumi.Input<string>>;
  /** The servers behind every VIP that serves any. In a failover profile, all but the first are backups. */
  servers: ImagingServer[];
  /** The servers of rows that name a `serverGroup` (AGFA's `web` servers), by group; required for those rows. */
  serverGroups?: Record<string, ImagingServer[]>;
  /** Certificate for the rows that terminate TLS (`tls`). */
  certificateId?: pulumi.Input<string>;
  /** Prepended to every VIP label (`ward2-` makes `ward2-AVS`), to deploy a profile twice on one appliance. */
  labelPrefix?: string;
}

/** A vendor profile's VIPs and their real servers. */
export class ImagingVirtualServices extends pulumi.ComponentResource {
  /** The virtual services, by row key. */
  readonly virtualServices: Record<string, VirtualService>;
  /** The real servers of each virtual service, by row key (empty for redirect-only VIPs). */
  readonly realServers: Record<string, RealServer[]>;

  /** Creates the profile's resources as children of this component. */
  constructor(name: string, args: ImagingVirtualServicesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('lbappliance:components:ImagingVirtualServices', name, {}, opts);
    this.virtualServices = {};
    this.realServers = {};
    const prefix = args.labelPrefix ?? '';
    for (const row of args.profile.virtualServices) {
      const address = args.addresses?.[row.key] ?? (row.ownAddress ? undefined : args.address);
      if (address === undefined) throw new Error(`${args.profile.name} ${row.label}: ${row.note ?? 'this VIP needs an address of its own'} Set addresses.${row.key}.`);
      if (row.tls && args.certificateId === undefined) throw new Error(`${args.profile.name} ${row.label} terminates TLS: set certificateId.`);
      const vs = new VirtualService(
        `${name}-${row.key}`,
        {
          ...row.settings,
          label: `${prefix}${row.label}`,
          ipAddress: address,
          ports: row.ports,
          protocol: row.protocol,
          ...(row.tls ? { certificateId: args.certificateId } : {}),
        },
        { parent: this },
      );
      this.virtualServices[row.key] = vs;
      const servers = row.serverGroup === undefined ? args.servers : args.serverGroups?.[row.serverGroup];
      if (servers === undefined) throw new Error(`${args.profile.name} ${row.label} is served by the "${row.serverGroup}" servers: set serverGroups.${row.serverGroup}.`);
      // The guides give each real server its port; a single-port VIP's servers listen on that
      // port unless the row translates it.
      const port = row.serverPort ?? (row.ports.length === 1 ? row.ports[0] : undefined);
      this.realServers[row.key] = row.noServers
        ? []
        : servers.map(
            (s, i) =>
              new RealServer(
                `${name}-${row.key}-${s.label}`,
                {
                  virtualServiceId: vs.id,
                  label: s.label,
                  address: s.address,
                  ...((s.port ?? port) !== undefined ? { port: s.port ?? port } : {}),
                  ...(s.weight !== undefined ? { weight: s.weight } : {}),
                  ...(row.reEncrypt ? { reEncrypt: true } : {}),
                  backup: s.backup ?? (args.profile.failover === true && i > 0),
                },
                { parent: vs },
              ),
          );
    }
    this.registerOutputs({ virtualServiceIds: Object.fromEntries(Object.entries(this.virtualServices).map(([k, v]) => [k, v.id])) });
  }
}
