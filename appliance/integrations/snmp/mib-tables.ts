// LBAPPLIANCE-MIB (mibs/LBAPPLIANCE-MIB.txt) and the MIB-II system group as net-snmp
// providers, and their rows rebuilt from the appliance's state: the stored configuration
// (names, addresses, ports, admin states), the engine's live status (health, connections)
// and the HA controller. The OIDs here and in the MIB file must agree; the SNMP suite walks
// the table with the file loaded, so a mismatch shows as a numeric OID there.
import snmp from 'net-snmp';
import type { StoredConfig } from '../../config/model.js';
import type { EngineStatus } from '../../engine/types.js';

/** The enterprise subtree: 99999 is a PLACEHOLDER enterprise number (see the MIB file). */
export const LB_MIB = '1.3.6.1.4.1.99999';
export const LB_NOTIFICATIONS = `${LB_MIB}.0`;
const LB_SYSTEM = `${LB_MIB}.1.1`;
const LB_VS_ENTRY = `${LB_MIB}.1.2.1`;
const LB_RS_ENTRY = `${LB_MIB}.1.3.1`;
export const LB_NOTIFY_OBJECTS = `${LB_MIB}.2`;
const MIB2_SYSTEM = '1.3.6.1.2.1.1';

/** Column numbers of lbRsEntry the notifications name. */
export const RS_COLUMNS = { name: 2, address: 3, port: 4, health: 6 } as const;
/** Column numbers of lbVsEntry the notifications name. */
export const VS_COLUMNS = { name: 2 } as const;
/** OID of an lbVsEntry or lbRsEntry column. */
export const vsColumn = (n: number): string => `${LB_VS_ENTRY}.${n}`;
export const rsColumn = (n: number): string => `${LB_RS_ENTRY}.${n}`;
/** OID of lbNodeName's instance. */
export const LB_NODE_NAME = `${LB_SYSTEM}.1.0`;

/** The OID index of a string index part (its length, then its characters). */
export function stringIndex(value: string): string {
  return [value.length, ...[...Buffer.from(value, 'utf8')]].join('.');
}

/** The health values of lbRsHealth. */
export const HEALTH = { up: 1, down: 2, unknown: 3 } as const;
const ADMIN = { online: 1, drain: 2, halt: 3 } as const;

const { ObjectType, MaxAccess, MibProviderType } = snmp;
const RO = MaxAccess['read-only'];
const NA = MaxAccess['not-accessible'];

const text = (number: number, name: string) => ({ number, name, type: ObjectType.OctetString, maxAccess: RO });
const gauge = (number: number, name: string) => ({ number, name, type: ObjectType.Gauge, maxAccess: RO });
const scalar = (name: string, oid: string, scalarType: number) => ({ name, type: MibProviderType.Scalar, oid, scalarType, maxAccess: RO });

/** Everything the rows are built from. */
export interface MibState {
  config: Readonly<StoredConfig>;
  status: EngineStatus;
  revision: number;
  haState: string;
  nodeName: string;
  version: string;
  contact: string;
  location: string;
  /** Seconds since the agent started (sysUpTime, in hundredths). */
  upSince: number;
  /** Health changes and down transitions per `vsId/rsId`. */
  counters: ReadonlyMap<string, { changes: number; downs: number }>;
}

/** The MIB a net-snmp agent serves, with a refresh from the appliance's state. */
export class ApplianceMib {
  readonly mib: ReturnType<typeof snmp.createMib>;
  /** Row indexes present now, per table, as JSON of the index values. */
  readonly #rows = { lbVsTable: new Set<string>(), lbRsTable: new Set<string>() };

  constructor() {
    this.mib = snmp.createMib();
    this.mib.registerProviders([
      scalar('sysDescr', `${MIB2_SYSTEM}.1`, ObjectType.OctetString),
      scalar('sysObjectID', `${MIB2_SYSTEM}.2`, ObjectType.OID),
      scalar('sysUpTime', `${MIB2_SYSTEM}.3`, ObjectType.TimeTicks),
      scalar('sysContact', `${MIB2_SYSTEM}.4`, ObjectType.OctetString),
      scalar('sysName', `${MIB2_SYSTEM}.5`, ObjectType.OctetString),
      scalar('sysLocation', `${MIB2_SYSTEM}.6`, ObjectType.OctetString),
      scalar('lbNodeName', `${LB_SYSTEM}.1`, ObjectType.OctetString),
      scalar('lbVersion', `${LB_SYSTEM}.2`, ObjectType.OctetString),
      scalar('lbHaState', `${LB_SYSTEM}.3`, ObjectType.OctetString),
      scalar('lbConfigRevision', `${LB_SYSTEM}.4`, ObjectType.Gauge),
      scalar('lbVsCount', `${LB_SYSTEM}.5`, ObjectType.Gauge),
      {
        name: 'lbVsTable',
        type: MibProviderType.Table,
        oid: LB_VS_ENTRY,
        maxAccess: NA,
        tableColumns: [
          { number: 1, name: 'lbVsId', type: ObjectType.OctetString, maxAccess: NA },
          text(2, 'lbVsName'),
          text(3, 'lbVsAddress'),
          text(4, 'lbVsPorts'),
          text(5, 'lbVsProtocol'),
          { number: 6, name: 'lbVsState', type: ObjectType.Integer, maxAccess: RO },
          gauge(7, 'lbVsConnections'),
          gauge(8, 'lbVsQueued'),
          gauge(9, 'lbVsServers'),
          gauge(10, 'lbVsServersUp'),
        ],
        tableIndex: [{ columnName: 'lbVsId' }],
      },
      {
        name: 'lbRsTable',
        type: MibProviderType.Table,
        oid: LB_RS_ENTRY,
        maxAccess: NA,
        tableColumns: [
          { number: 1, name: 'lbRsId', type: ObjectType.OctetString, maxAccess: NA },
          text(2, 'lbRsName'),
          text(3, 'lbRsAddress'),
          gauge(4, 'lbRsPort'),
          { number: 5, name: 'lbRsAdminState', type: ObjectType.Integer, maxAccess: RO },
          { number: 6, name: 'lbRsHealth', type: ObjectType.Integer, maxAccess: RO },
          gauge(7, 'lbRsConnections'),
          text(8, 'lbRsLastCheck'),
          { number: 9, name: 'lbRsHealthChanges', type: ObjectType.Counter, maxAccess: RO },
          { number: 10, name: 'lbRsDownTransitions', type: ObjectType.Counter, maxAccess: RO },
        ],
        tableIndex: [{ columnName: 'lbVsId', foreign: 'lbVsTable' }, { columnName: 'lbRsId' }],
      },
    ]);
    this.mib.setScalarValue('sysObjectID', LB_MIB);
  }

  /** Rebuilds every value from `s`: rows of removed objects go, the others are rewritten. */
  refresh(s: MibState): void {
    const m = this.mib;
    m.setScalarValue('sysDescr', `lbappliance ${s.version} load balancer (${s.nodeName})`);
    m.setScalarValue('sysUpTime', Math.floor((Date.now() - s.upSince) / 10) % 2 ** 32);
    m.setScalarValue('sysContact', s.contact);
    m.setScalarValue('sysName', s.nodeName);
    m.setScalarValue('sysLocation', s.location);
    m.setScalarValue('lbNodeName', s.nodeName);
    m.setScalarValue('lbVersion', s.version);
    m.setScalarValue('lbHaState', s.haState);
    m.setScalarValue('lbConfigRevision', s.revision);
    m.setScalarValue('lbVsCount', Object.keys(s.config.virtualServices).length);
    const vsRows = new Map<string, unknown[]>();
    const rsRows = new Map<string, unknown[]>();
    for (const [vsId, vs] of Object.entries(s.config.virtualServices)) {
      const live = s.status.virtualServices.get(vsId);
      const servers = Object.entries(s.config.realServers).filter(([, rs]) => rs.virtualServiceId === vsId);
      let up = 0;
      for (const [rsId, rs] of servers) {
        const rt = live?.realServers.get(rsId);
        const health = rt?.health ?? 'unknown';
        if (health === 'up') up += 1;
        const counters = s.counters.get(`${vsId}/${rsId}`) ?? { changes: 0, downs: 0 };
        rsRows.set(JSON.stringify([vsId, rsId]), [
          vsId,
          rsId,
          rs.label,
          rs.address,
          rs.port ?? 0,
          ADMIN[rs.adminState as keyof typeof ADMIN] ?? 1,
          HEALTH[health],
          rt?.connections ?? 0,
          rt?.lastCheck?.detail ?? '',
          counters.changes % 2 ** 32,
          counters.downs % 2 ** 32,
        ]);
      }
      const state = !s.status.active ? 3 : live?.listening ? 1 : 2;
      vsRows.set(JSON.stringify([vsId]), [vsId, vs.label, vs.ipAddress, vs.ports.join(','), vs.protocol, state, live?.connections ?? 0, live?.queued ?? 0, servers.length, up]);
    }
    // Real servers first: a VIP's row goes only once none of its servers' rows is left.
    this.#sync('lbRsTable', rsRows);
    this.#sync('lbVsTable', vsRows);
  }

  #sync(table: 'lbVsTable' | 'lbRsTable', rows: Map<string, unknown[]>): void {
    const present = this.#rows[table];
    for (const key of [...present]) {
      if (rows.has(key)) continue;
      this.mib.deleteTableRow(table, JSON.parse(key) as unknown[]);
      present.delete(key);
    }
    for (const [key, row] of rows) {
      this.mib.addTableRow(table, row);
      present.add(key);
    }
  }
}
