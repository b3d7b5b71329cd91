// Whether a replacement must delete the old object before creating the new one. Pulumi
// creates the replacement first by default, which keeps a VIP serving until its successor
// exists, but the appliance refuses a second object with the same unique key: a label (per
// appliance for virtual services and certificates, per virtual service for real servers),
// an address and port, or the one HA pair a node can have.
import type { ObjectValue, ResourceDefinition, Value } from '../resources/types.js';
import { valuesEqual } from '../resources/values.js';

function same(olds: ObjectValue, news: ObjectValue, name: string): boolean {
  const n: Value = news[name] ?? null;
  return n !== null && valuesEqual(olds[name] ?? null, n);
}

function portsOverlap(olds: ObjectValue, news: ObjectValue): boolean {
  const a = olds.ports;
  const b = news.ports;
  return Array.isArray(a) && Array.isArray(b) && a.some((p) => b.some((q) => valuesEqual(p, q)));
}

/** True when the new object, created beside the old one, would clash with it. */
export function mustDeleteBeforeReplace(def: ResourceDefinition, olds: ObjectValue, news: ObjectValue): boolean {
  switch (def.name) {
    case 'virtual_service':
      return same(olds, news, 'label') || (same(olds, news, 'ip_address') && portsOverlap(olds, news));
    case 'certificate':
      return same(olds, news, 'label');
    case 'real_server':
      return same(olds, news, 'virtual_service_id') && same(olds, news, 'label');
    case 'ha_pair':
      return true;
    default:
      return false;
  }
}
