// A write's draft: a copy of each collection the mutation changes, that records the ids it sets or
// deletes, so the store learns what the write changed without comparing every object of the
// site (issue 17: at a thousand VIPs, three passes over every id per write, in the change
// set, the rules and the audit, cost more than the write's own work). A collection the
// mutation replaced whole (`draft.snmp = {...}`, a restore's `Object.assign(draft, ...)`) is
// compared id by id as before. Objects are frozen and shared between revisions, so a change
// is always a new object under an id: identity tells changed from unchanged.
import { CONFIG_MAPS, type ConfigMap, type StoredConfig } from './model.js';
import { mapChange, type ConfigChange } from './revision-log.js';

/** A draft to hand to a mutation, and what it became. */
export interface Draft {
  /** What the mutation edits. */
  readonly config: StoredConfig;
  /**
   * The configuration the mutation made (plain objects), what it changed from `base`, and the
   * collections whose ids keep `base`'s order with new ones after them (not replaced whole, no
   * id deleted and set again): what the snapshot and the server index may follow in place.
   */
  close(): { config: StoredConfig; change: ConfigChange; inOrder: ReadonlySet<ConfigMap> };
}

/**
 * Opens a draft of `base`; `base` is never written. A collection is copied at the mutation's
 * first change to it, and one it never changes stays `base`'s own object: a real server's
 * write copies the real servers, not the virtual services (at a thousand of each, the copies
 * were the largest part of a write that grew with the site, issue 17).
 */
export function openDraft(base: StoredConfig): Draft {
  const copies = {} as Record<ConfigMap, Record<string, unknown>>;
  const touched = {} as Record<ConfigMap, Set<string>>;
  const reordered = new Set<ConfigMap>();
  const holder = {} as Record<string, unknown>;
  for (const map of CONFIG_MAPS) {
    const ids = (touched[map] = new Set<string>());
    const deleted = new Set<string>();
    const shared = (base[map] ?? {}) as Record<string, unknown>;
    copies[map] = shared;
    const own = (): Record<string, unknown> => {
      if (copies[map] === shared) copies[map] = { ...shared };
      return copies[map];
    };
    const note = (key: string | symbol, deleting: boolean) => {
      if (typeof key !== 'string') return;
      ids.add(key);
      // An id deleted and set again moves to the end of the collection's order.
      if (deleting) deleted.add(key);
      else if (deleted.has(key)) reordered.add(map);
    };
    // The proxy's own target stays empty: every operation goes to the collection of the
    // moment (base's, then the copy), so the proxy must describe its properties as its own
    // and configurable (base's may be frozen).
    holder[map] = new Proxy({} as Record<string, unknown>, {
      get: (_target, key) => copies[map][key as string],
      has: (_target, key) => key in copies[map],
      ownKeys: () => Reflect.ownKeys(copies[map]),
      getOwnPropertyDescriptor: (_target, key) => {
        if (!Object.hasOwn(copies[map], key)) return undefined;
        return { value: copies[map][key as string], writable: true, enumerable: true, configurable: true };
      },
      set: (_target, key, value) => (note(key, false), Reflect.set(own(), key, value)),
      deleteProperty: (_target, key) => {
        note(key, true);
        // Deleting what is not there changes nothing, and copies nothing.
        return Object.hasOwn(copies[map], key) ? Reflect.deleteProperty(own(), key) : true;
      },
      defineProperty: (_target, key, descriptor) => (note(key, false), Reflect.defineProperty(own(), key, descriptor)),
    });
  }
  const proxies = { ...holder };
  return {
    config: holder as unknown as StoredConfig,
    close() {
      const config = {} as Record<string, unknown>;
      const change = {} as Record<ConfigMap, Record<string, unknown>>;
      const inOrder = new Set<ConfigMap>();
      for (const key of Object.keys(holder)) if (!(CONFIG_MAPS as readonly string[]).includes(key)) config[key] = holder[key];
      for (const map of CONFIG_MAPS) {
        const before = (base[map] ?? {}) as Record<string, unknown>;
        if (holder[map] !== proxies[map]) {
          // Replaced whole: compared id by id.
          config[map] = holder[map];
          change[map] = mapChange(before, (holder[map] ?? {}) as Record<string, unknown>);
          continue;
        }
        const after = copies[map];
        config[map] = after;
        if (!reordered.has(map)) inOrder.add(map);
        const out: Record<string, unknown> = {};
        for (const id of touched[map]) {
          const has = Object.hasOwn(after, id);
          if (has && before[id] !== after[id]) out[id] = after[id];
          else if (!has && Object.hasOwn(before, id)) out[id] = null;
        }
        change[map] = out;
      }
      return { config: config as unknown as StoredConfig, change: change as unknown as ConfigChange, inOrder };
    },
  };
}
