// Source-IP persistence: client address -> real server, per VIP, forgotten after the VIP's
// idle timeout. Kept in a form the HA pair can replicate: plain entries that export and
// import, and an event for every entry created, moved or removed (touches only refresh
// `lastSeen`, which an export carries, so steady traffic sends no events).
import { EventEmitter } from 'node:events';

import type { PersistenceChange, PersistenceEntry } from '../types.js';

interface Slot {
  rsId: string;
  lastSeen: number;
}

/** The source-IP persistence tables of every VIP. */
export class PersistenceTable extends EventEmitter<{ change: [PersistenceChange]; imported: [PersistenceEntry[]] }> {
  readonly #tables = new Map<string, Map<string, Slot>>();
  readonly #timeoutMs = new Map<string, number>();
  #sweeper: NodeJS.Timeout | null = null;

  /** Sets a VIP's idle timeout (seconds); VIPs not kept lose their entries. */
  configure(timeouts: ReadonlyMap<string, number>): void {
    for (const vsId of [...this.#tables.keys()]) if (!timeouts.has(vsId)) this.dropVip(vsId);
    this.#timeoutMs.clear();
    for (const [vsId, seconds] of timeouts) this.#timeoutMs.set(vsId, seconds * 1000);
    this.#keepSweeper();
  }

  /** Sets or removes (null) the idle timeouts of some VIPs, the others' as they are (a revision that changed only these VIPs). */
  configureSome(timeouts: Iterable<readonly [string, number | null]>): void {
    for (const [vsId, seconds] of timeouts) {
      if (seconds === null) {
        this.#timeoutMs.delete(vsId);
        if (this.#tables.has(vsId)) this.dropVip(vsId);
      } else this.#timeoutMs.set(vsId, seconds * 1000);
    }
    this.#keepSweeper();
  }

  /** A sweeper runs while some VIP keeps a table. */
  #keepSweeper(): void {
    if (this.#timeoutMs.size > 0 && !this.#sweeper) {
      this.#sweeper = setInterval(() => this.sweep(Date.now()), 1000);
      this.#sweeper.unref();
    } else if (this.#timeoutMs.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }

  /** The server remembered for a client (refreshing its idle time), or undefined. */
  lookup(vsId: string, client: string, now: number): string | undefined {
    const slot = this.#tables.get(vsId)?.get(client);
    if (!slot) return undefined;
    if (now - slot.lastSeen > (this.#timeoutMs.get(vsId) ?? 0)) {
      this.#delete(vsId, client, slot);
      return undefined;
    }
    slot.lastSeen = now;
    return slot.rsId;
  }

  /** Remembers a client's server. */
  set(vsId: string, client: string, rsId: string, now: number): void {
    let table = this.#tables.get(vsId);
    if (!table) {
      table = new Map();
      this.#tables.set(vsId, table);
    }
    const slot = table.get(client);
    if (slot && slot.rsId === rsId) {
      slot.lastSeen = now;
      return;
    }
    table.set(client, { rsId, lastSeen: now });
    this.emit('change', { type: 'set', entry: { virtualServiceId: vsId, client, realServerId: rsId, lastSeen: now } });
  }

  /** Forgets every entry of a server (it left the config). */
  dropServer(vsId: string, rsId: string): void {
    const table = this.#tables.get(vsId);
    if (!table) return;
    for (const [client, slot] of table) if (slot.rsId === rsId) this.#delete(vsId, client, slot);
  }

  /** Forgets a whole VIP. */
  dropVip(vsId: string): void {
    const table = this.#tables.get(vsId);
    if (!table) return;
    for (const [client, slot] of table) this.#delete(vsId, client, slot);
    this.#tables.delete(vsId);
  }

  /** Removes entries idle longer than their VIP's timeout. */
  sweep(now: number): void {
    for (const [vsId, table] of this.#tables) {
      const limit = this.#timeoutMs.get(vsId) ?? 0;
      for (const [client, slot] of table) if (now - slot.lastSeen > limit) this.#delete(vsId, client, slot);
    }
  }

  /** Every live entry (for replication to the HA peer). */
  export(): PersistenceEntry[] {
    const out: PersistenceEntry[] = [];
    for (const [vsId, table] of this.#tables) for (const [client, slot] of table) out.push({ virtualServiceId: vsId, client, realServerId: slot.rsId, lastSeen: slot.lastSeen });
    return out;
  }

  /** Merges entries received from the HA peer (the newer `lastSeen` wins); emits no `change`, only `imported`. */
  import(entries: readonly PersistenceEntry[]): number {
    const taken: PersistenceEntry[] = [];
    for (const e of entries) {
      let table = this.#tables.get(e.virtualServiceId);
      if (!table) {
        table = new Map();
        this.#tables.set(e.virtualServiceId, table);
      }
      const slot = table.get(e.client);
      if (!slot || slot.lastSeen < e.lastSeen) {
        table.set(e.client, { rsId: e.realServerId, lastSeen: e.lastSeen });
        taken.push(e);
      }
    }
    if (taken.length > 0) this.emit('imported', taken);
    return taken.length;
  }

  /** A VIP's entries with the milliseconds each has left, ordered by client. */
  entries(vsId: string, now: number): { client: string; realServerId: string; remainingMs: number }[] {
    const table = this.#tables.get(vsId);
    if (!table) return [];
    const limit = this.#timeoutMs.get(vsId) ?? 0;
    const out: { client: string; realServerId: string; remainingMs: number }[] = [];
    for (const [client, slot] of table) {
      const remainingMs = slot.lastSeen + limit - now;
      if (remainingMs >= 0) out.push({ client, realServerId: slot.rsId, remainingMs });
    }
    return out.sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : 0));
  }

  /** Forgets one client (the API's clear); false when it had no entry. Emits a `clear` change (replicated to the HA peer). */
  forget(vsId: string, client: string): boolean {
    const slot = this.#tables.get(vsId)?.get(client);
    if (!slot) return false;
    this.#tables.get(vsId)?.delete(client);
    this.emit('change', { type: 'clear', entry: { virtualServiceId: vsId, client, realServerId: slot.rsId, lastSeen: slot.lastSeen } });
    return true;
  }

  /** Number of entries of a VIP. */
  size(vsId: string): number {
    return this.#tables.get(vsId)?.size ?? 0;
  }

  /** Stops the sweeper. */
  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
  }

  #delete(vsId: string, client: string, slot: Slot): void {
    this.#tables.get(vsId)?.delete(client);
    this.emit('change', { type: 'delete', entry: { virtualServiceId: vsId, client, realServerId: slot.rsId, lastSeen: slot.lastSeen } });
  }
}
