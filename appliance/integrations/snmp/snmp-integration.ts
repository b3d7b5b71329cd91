// The SNMP integration: the appliance's own SNMP agent (net-snmp's, in-process) serving
// LBAPPLIANCE-MIB and the MIB-II system group read-only to the configured v2c communities
// and v3 users, and the notifications of the operational events.
//
// Why an agent of its own rather than an AgentX subagent of the host's snmpd: the
// communities and v3 users are part of the appliance's configuration (as code, replicated
// to the secondary, secrets write-only); with snmpd as master they would have to be written
// into the host's snmpd.conf and its USM store, a second configuration owned by another
// daemon, and the table would depend on a daemon the appliance neither starts nor watches.
// One process owning the UDP port, the credentials and the data keeps one source of truth.
//
// The settings are read from the current revision once a second (a write on this node and
// a revision replicated from the primary alike); a change closes the agent and the
// notification sessions and opens new ones. Each node listens on its own address:
// `nodeListenAddresses[<node name>]`, else `listenAddress`. A port that cannot be bound is
// logged and tried again every 5 seconds; the appliance runs on without SNMP meanwhile.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import snmp from 'net-snmp';
import { Counter } from 'prom-client';
import { writeFileAtomic } from '../../config/atomic-file.js';
import { snmpSettingsOf, type StoredSnmpSettings } from '../../config/snmp-settings.js';
import { VERSION } from '../../version.js';
import type { Integration, IntegrationContext, IntegrationFactory } from '../integration.js';
import { ApplianceMib } from './mib-tables.js';
import { SnmpNotifier, usmUser } from './notifier.js';

const RETRY_MS = 5000;

/** This node's SNMP engine id (RFC 3411, net-snmp's enterprise format), kept across restarts. */
async function engineId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'snmp', 'engine-id');
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (/^[0-9A-Fa-f]{10,64}$/.test(kept)) return kept;
  const id = `8000B98380${randomBytes(12).toString('hex').toUpperCase()}`;
  await mkdir(join(dataDir, 'snmp'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${id}\n`, 0o600);
  return id;
}

type Agent = ReturnType<typeof snmp.createAgent>;

/** The running SNMP integration. */
class SnmpService implements Integration {
  readonly name = 'snmp';
  readonly #ctx: IntegrationContext;
  readonly #engineId: string;
  readonly #upSince = Date.now();
  readonly #mib = new ApplianceMib();
  readonly #counters = new Map<string, { changes: number; downs: number }>();
  readonly #outcomes: Counter<'destination' | 'outcome'>;
  readonly #refused: Counter;
  #settings: StoredSnmpSettings | null = null;
  #agent: Agent | null = null;
  #agentClosed: Promise<void> = Promise.resolve();
  /** Whether a closed agent's socket may still hold the port (the next one waits). */
  #closing = false;
  #retryAt = 0;
  #notifier: SnmpNotifier | null = null;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: () => void = () => undefined;

  constructor(ctx: IntegrationContext, id: string) {
    this.#ctx = ctx;
    this.#engineId = id;
    this.#outcomes = new Counter({ name: 'lbappliance_snmp_notifications_total', help: 'SNMP notifications by destination and outcome (sent: a v2c trap left; acknowledged: a v3 inform was; failed: not sent, or an inform never acknowledged).', labelNames: ['destination', 'outcome'], registers: [ctx.registry] });
    this.#refused = new Counter({ name: 'lbappliance_snmp_requests_refused_total', help: 'SNMP requests the agent refused or could not read (unknown community or user, wrong keys, malformed).', registers: [ctx.registry] });
  }

  start(): void {
    this.#unsubscribe = this.#ctx.events.subscribe((event) => {
      if (event.kind === 'real-server-health') {
        const key = `${event.virtualService.id}/${event.realServer.id}`;
        const c = this.#counters.get(key) ?? { changes: 0, downs: 0 };
        c.changes += 1;
        if (event.to === 'down') c.downs += 1;
        this.#counters.set(key, c);
        // Health events come as the check decides: the table a manager reads on the notification says so too.
        this.#refreshTable(this.#follow());
      }
      // Certificates are watched on both nodes of a pair: the active one speaks for the pair.
      if (event.kind === 'certificate-expiry' && !this.#ctx.engine.status().active) return;
      // The event may follow a revision this integration has not read yet (its settings).
      this.#follow();
      if (this.#settings?.enabled) this.#notifier?.send(event, this.#ctx.nodeName);
    });
    this.tick();
    this.#timer = setInterval(() => this.tick(), 1000);
    this.#timer.unref();
  }

  /** Follows the settings of the current revision and refreshes the served values. */
  tick(): void {
    const settings = this.#follow();
    if (settings.enabled && !this.#agent && !this.#closing && Date.now() >= this.#retryAt) this.#listen(settings);
    this.#refreshTable(settings);
  }

  /** Reads the current revision and the engine's status into the served tables (when the agent listens). */
  #refreshTable(settings: StoredSnmpSettings): void {
    if (this.#agent) {
      try {
        this.#mib.refresh({
          config: this.#ctx.store.current.config,
          status: this.#ctx.engine.status(),
          revision: this.#ctx.store.current.revision,
          haState: this.#ctx.haStatus().state,
          nodeName: this.#ctx.nodeName,
          version: VERSION,
          contact: settings.contact,
          location: settings.location,
          upSince: this.#upSince,
          counters: this.#counters,
        });
      } catch (err) {
        this.#ctx.logger.error({ err }, 'could not refresh the SNMP tables');
      }
    }
  }

  /** The current revision's settings, applied when they changed. */
  #follow(): StoredSnmpSettings {
    const settings = snmpSettingsOf(this.#ctx.store.current.config);
    if (settings !== this.#settings) this.#apply(settings);
    return settings;
  }

  #apply(settings: StoredSnmpSettings): void {
    const first = this.#settings === null;
    this.#settings = settings;
    this.#notifier?.close();
    this.#notifier = null;
    this.#closeAgent();
    this.#retryAt = 0;
    if (!settings.enabled) {
      if (!first) this.#ctx.logger.info('SNMP is disabled');
      return;
    }
    this.#notifier = new SnmpNotifier(settings, { logger: this.#ctx.logger, outcomes: this.#outcomes, upSince: this.#upSince });
  }

  #listen(settings: StoredSnmpSettings): void {
    const address = settings.nodeListenAddresses[this.#ctx.nodeName] ?? settings.listenAddress;
    const transport = address.includes(':') ? 'udp6' : 'udp4';
    let failed = false;
    const agent: Agent = snmp.createAgent(
      { port: settings.port, address, transport, engineID: this.#engineId, accessControlModelType: snmp.AccessControlModelType.Simple },
      (err: (Error & { syscall?: string; code?: string }) | null) => {
        if (!err) return;
        if (err.syscall === 'bind' || err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES') {
          if (failed) return;
          failed = true;
          this.#ctx.logger.error({ address, port: settings.port, code: err.code }, `the SNMP agent cannot listen on ${address}:${settings.port} (${err.code ?? err.message}); trying again in ${RETRY_MS / 1000} s`);
          if (this.#agent === agent) {
            this.#closeAgent();
            this.#retryAt = Date.now() + RETRY_MS;
          }
          return;
        }
        // A refused request (wrong community, unknown user, bad keys): counted, never logged
        // with its content (a mistyped community is somebody's secret).
        this.#refused.inc();
        this.#ctx.logger.debug({ error: err.name }, 'SNMP request refused');
      },
      this.#mib.mib,
    );
    const authorizer = agent.getAuthorizer();
    const access = authorizer.getAccessControlModel();
    for (const c of settings.communities) {
      authorizer.addCommunity(c.community);
      access.setCommunityAccess(c.community, snmp.AccessLevel.ReadOnly);
    }
    for (const u of settings.users) {
      authorizer.addUser(usmUser(u));
      access.setUserAccess(u.name, snmp.AccessLevel.ReadOnly);
    }
    this.#agent = agent;
    this.#ctx.logger.info({ address, port: settings.port, communities: settings.communities.length, users: settings.users.length, trapDestinations: settings.trapDestinations.length }, 'SNMP agent listening');
  }

  #closeAgent(): void {
    const agent = this.#agent;
    this.#agent = null;
    if (!agent) return;
    const previous = this.#agentClosed;
    this.#closing = true;
    const closed = previous.then(
      () =>
        new Promise<void>((resolve) => {
          try {
            agent.close(() => resolve());
          } catch {
            resolve();
          }
          // A socket that never bound reports no close.
          setTimeout(resolve, 500).unref();
        }),
    );
    this.#agentClosed = closed;
    void closed.then(() => {
      if (this.#agentClosed !== closed) return;
      this.#closing = false;
      // Listen again at once rather than at the next tick.
      if (this.#timer) this.tick();
    });
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe();
    this.#notifier?.close();
    this.#notifier = null;
    this.#closeAgent();
    await this.#agentClosed;
  }
}

/** The SNMP integration's factory (registered in ../registry.ts). */
export const snmpIntegration: IntegrationFactory = {
  name: 'snmp',
  async start(context) {
    const service = new SnmpService(context, await engineId(context.dataDir));
    service.start();
    return service;
  },
};
