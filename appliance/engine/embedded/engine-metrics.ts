// Traffic counters of the embedded engine on the node's Prometheus registry. The hot path
// adds to plain numbers (a Tally per VIP, server and status class, bound at apply); they
// reach prom-client at scrape time. Byte counters come from socket byte counts, flushed at
// scrape time and when a socket closes, so no per-chunk work is done while traffic flows.
import type { Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';

/** A count kept as a plain number and handed to its Prometheus counter at scrape time. */
export class Tally {
  #value = 0;
  #flushed = 0;
  /** What a worker last reported of it to the engine process (takeChanges). */
  #reported = 0;
  constructor(
    readonly child: Counter.Internal,
    /** Its counter's name and label values (in the order of the counter's labelNames). */
    readonly name: string,
    readonly labels: readonly string[],
  ) {}

  /** Adds one (or n). */
  inc(n = 1): void {
    this.#value += n;
  }

  /** Moves what was added since the last flush into the Prometheus counter. */
  flush(): void {
    if (this.#value > this.#flushed) this.child.inc(this.#value - this.#flushed);
    this.#flushed = this.#value;
  }

  /** What was added since the last call, marked as reported. */
  take(): number {
    const n = this.#value - this.#reported;
    this.#reported = this.#value;
    return n;
  }
}

/** A counter series' increase: counter name, label values in the order of its labelNames, amount. */
export type CounterChange = [name: string, labels: string[], amount: number];

/** Counters bound to one virtual service. */
export interface VipCounters {
  /** Responses by status class: index 1..5 for 1xx..5xx. */
  responses: Tally[];
  bytesIn: Tally;
  bytesOut: Tally;
  connections: Tally;
  /** Client connections refused at the VIP's maxConnections. */
  refused: Tally;
}

/** Counters bound to one real server of one virtual service. */
export interface ServerCounters {
  requests: Tally;
  /** Responses the server sent, by status class: index 1..5 for 1xx..5xx. */
  responses: Tally[];
  bytesIn: Tally;
  bytesOut: Tally;
  connections: Tally;
}

import { TRAFFIC_COUNTERS } from '../traffic-metrics.js';

interface Metered {
  socket: Socket;
  read: number;
  written: number;
  /** Bytes read from this socket count here. */
  inbound: Tally;
  /** Bytes written to this socket count here. */
  outbound: Tally;
}

/** The engine's traffic metrics. */
export class EngineMetrics {
  readonly #requests: Counter<'virtual_service' | 'code'>;
  readonly #bytes: Counter<'virtual_service' | 'direction'>;
  readonly #connections: Counter<'virtual_service'>;
  readonly #rsRequests: Counter<'virtual_service' | 'real_server'>;
  readonly #rsBytes: Counter<'virtual_service' | 'real_server' | 'direction'>;
  readonly #rsConnections: Counter<'virtual_service' | 'real_server'>;
  readonly #rsResponses: Counter<'virtual_service' | 'real_server' | 'code'>;
  readonly #refused: Counter<'virtual_service'>;
  readonly #open = new Set<Metered>();
  readonly #tallies = new Map<string, Tally>();

  constructor(registry: Registry) {
    // Any counter scraped first brings every count up to date.
    const flush = () => this.flush();
    const [requests, bytes, connections, rsRequests, rsBytes, rsConnections, refused, rsResponses] = TRAFFIC_COUNTERS;
    const make = <L extends string>(def: { name: string; help: string; labelNames: readonly L[] }, collect: () => void) =>
      new Counter<L>({ name: def.name, help: def.help, labelNames: def.labelNames, registers: [registry], collect });
    this.#requests = make(requests, flush);
    this.#bytes = make(bytes, flush);
    this.#connections = make(connections, flush);
    this.#rsRequests = make(rsRequests, flush);
    this.#rsBytes = make(rsBytes, flush);
    this.#rsConnections = make(rsConnections, flush);
    this.#rsResponses = make(rsResponses, flush);
    this.#refused = make(refused, flush);
  }

  /** Binds the counters of a virtual service. */
  vip(label: string): VipCounters {
    const responses = [0, 1, 2, 3, 4, 5].map((c) => this.#tally(this.#requests, label, c === 0 ? 'other' : `${c}xx`));
    return {
      responses,
      bytesIn: this.#tally(this.#bytes, label, 'in'),
      bytesOut: this.#tally(this.#bytes, label, 'out'),
      connections: this.#tally(this.#connections, label),
      refused: this.#tally(this.#refused, label),
    };
  }

  /** Binds the counters of a real server. */
  server(vipLabel: string, label: string): ServerCounters {
    return {
      requests: this.#tally(this.#rsRequests, vipLabel, label),
      responses: [0, 1, 2, 3, 4, 5].map((c) => this.#tally(this.#rsResponses, vipLabel, label, c === 0 ? 'other' : `${c}xx`)),
      bytesIn: this.#tally(this.#rsBytes, vipLabel, label, 'in'),
      bytesOut: this.#tally(this.#rsBytes, vipLabel, label, 'out'),
      connections: this.#tally(this.#rsConnections, vipLabel, label),
    };
  }

  /** One tally per series, shared by whoever binds the same labels again. */
  #tally(counter: Counter<string>, ...labels: string[]): Tally {
    const name = (counter as unknown as { name: string }).name;
    const key = `${name}|${labels.join('|')}`;
    let t = this.#tallies.get(key);
    if (!t) {
      t = new Tally(counter.labels(...labels), name, labels);
      this.#tallies.set(key, t);
    }
    return t;
  }

  /** Counts a socket's bytes until it closes (read into `inbound`, written into `outbound`). */
  meter(socket: Socket, inbound: Tally, outbound: Tally): void {
    const m: Metered = { socket, read: 0, written: 0, inbound, outbound };
    this.#open.add(m);
    socket.once('close', () => {
      this.#flushOne(m);
      this.#open.delete(m);
    });
  }

  /** Brings the Prometheus counters up to date: bytes of open sockets, then every tally. */
  flush(): void {
    for (const m of this.#open) this.#flushOne(m);
    for (const t of this.#tallies.values()) t.flush();
  }

  /**
   * The series that grew since the last call, and by how much: what a worker process reports
   * to the engine process at a scrape. A site of a thousand VIPs has some twenty thousand
   * series per worker; sent whole at every scrape they cost both processes more than a
   * revision's apply (issue 17), and most of them do not move between two scrapes.
   */
  takeChanges(): CounterChange[] {
    for (const m of this.#open) this.#flushOne(m);
    const out: CounterChange[] = [];
    for (const t of this.#tallies.values()) {
      const n = t.take();
      if (n > 0) out.push([t.name, [...t.labels], n]);
    }
    return out;
  }

  #flushOne(m: Metered): void {
    const read = m.socket.bytesRead;
    const written = m.socket.bytesWritten;
    if (read > m.read) m.inbound.inc(read - m.read);
    if (written > m.written) m.outbound.inc(written - m.written);
    m.read = read;
    m.written = written;
  }
}
