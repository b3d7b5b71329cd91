// The embedded engine's metric names, fed from HAProxy's stats so dashboards read the same
// series whichever engine runs: traffic counters (from `show stat`, brought up to date at
// scrape time), health transitions and check durations (from the checks HAProxy ran).
import { Counter, Histogram, type Registry } from 'prom-client';
import { TRAFFIC_COUNTERS } from '../traffic-metrics.js';
import type { ConfigSnapshot, VirtualServiceSnapshot } from '../types.js';
import { Monotonic, type VipStat } from './stats-reader.js';

type Labels = Record<string, string>;

/** Prometheus series of the HAProxy engine. */
export class HaproxyMetrics {
  readonly #counters: Counter<string>[];
  readonly #transitions: Counter<'virtual_service' | 'real_server' | 'to'>;
  readonly #duration: Histogram<'virtual_service' | 'real_server'>;
  /**
   * Totals by source series (ids, so a renamed VIP keeps counting), with the VIP snapshot whose
   * labels the source was last reported under: while that snapshot stays and the source does not
   * move, a read has nothing to add (most of a thousand VIPs, most of the time: the engine reads
   * four times a second).
   */
  readonly #totals = new Map<string, { total: Monotonic; reportedFor: VirtualServiceSnapshot | null }>();
  /** What each Prometheus series was given so far. */
  readonly #reported = new Map<string, number>();
  /** The last verdict other than unknown, so a new worker's first checks count no transition. */
  readonly #known = new Map<string, 'up' | 'down'>();

  /** Registers the series; `refresh` brings the stats up to date before a scrape reads them. */
  constructor(registry: Registry, refresh: () => Promise<void>) {
    const collect = async () => {
      await refresh().catch(() => undefined);
    };
    this.#counters = TRAFFIC_COUNTERS.map(
      (def) => new Counter({ name: def.name, help: def.help, labelNames: [...def.labelNames], registers: [registry], collect }),
    );
    this.#transitions = new Counter({
      name: 'lbappliance_health_transitions_total',
      help: 'Health changes of real servers, by the state entered.',
      labelNames: ['virtual_service', 'real_server', 'to'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'lbappliance_health_check_duration_seconds',
      help: 'Duration of active health checks.',
      labelNames: ['virtual_service', 'real_server'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  }

  /** Adds what HAProxy counted since the last read. */
  update(snapshot: ConfigSnapshot, vips: ReadonlyMap<string, VipStat>): void {
    const [requests, bytes, connections, rsRequests, rsBytes, rsConnections, refused] = this.#counters as [Counter<string>, Counter<string>, Counter<string>, Counter<string>, Counter<string>, Counter<string>, Counter<string>];
    for (const vs of snapshot.virtualServices) {
      const st = vips.get(vs.id);
      if (!st) continue;
      const v = { virtual_service: vs.label };
      for (const [code, n] of Object.entries(st.responses)) this.#add(vs, requests, `${vs.id}|${code}`, { ...v, code }, n);
      this.#add(vs, bytes, `${vs.id}|in`, { ...v, direction: 'in' }, st.bytesIn);
      this.#add(vs, bytes, `${vs.id}|out`, { ...v, direction: 'out' }, st.bytesOut);
      this.#add(vs, connections, `${vs.id}|conn`, v, st.accepted);
      this.#add(vs, refused, `${vs.id}|refused`, v, st.refused);
      for (const rs of vs.realServers) {
        const s = st.servers.get(rs.id);
        if (!s) continue;
        const l = { ...v, real_server: rs.label };
        this.#add(vs, rsRequests, `${rs.id}|req`, l, s.requests);
        this.#add(vs, rsBytes, `${rs.id}|in`, { ...l, direction: 'in' }, s.bytesIn);
        this.#add(vs, rsBytes, `${rs.id}|out`, { ...l, direction: 'out' }, s.bytesOut);
        this.#add(vs, rsConnections, `${rs.id}|conn`, l, s.connects);
        const key = `${vs.id}/${rs.id}`;
        const prev = this.#known.get(key);
        if (s.health !== 'unknown' && s.health !== prev) {
          this.#known.set(key, s.health);
          this.#transitions.inc({ ...l, to: s.health });
        }
      }
    }
  }

  /** Records the duration of a check HAProxy finished. */
  observeCheck(vipLabel: string, serverLabel: string, durationMs: number): void {
    this.#duration.observe({ virtual_service: vipLabel, real_server: serverLabel }, durationMs / 1000);
  }

  #add(vs: VirtualServiceSnapshot, counter: Counter<string>, source: string, labels: Labels, raw: number): void {
    const sourceKey = `${(counter as unknown as { name: string }).name}|${source}`;
    let entry = this.#totals.get(sourceKey);
    if (!entry) {
      entry = { total: new Monotonic(), reportedFor: null };
      this.#totals.set(sourceKey, entry);
    } else if (entry.reportedFor === vs && entry.total.last === raw) return;
    entry.reportedFor = vs;
    const total = entry.total.total(raw);
    const seriesKey = `${sourceKey}|${JSON.stringify(labels)}`;
    const given = this.#reported.get(seriesKey) ?? 0;
    if (total > given) counter.inc(labels, total - given);
    this.#reported.set(seriesKey, total);
  }
}
