// Pulumi resource ids. The engine keeps one id per resource and hands it to Read, Update and
// Delete, and `pulumi import` / `Resource.get` take it from the user, so the id is the
// definition's import id: the appliance's own id, except for a real server, whose id alone
// does not say which virtual service it belongs to (`vs-xxxxxxxxxxxx/rs-xxxxxxxxxxxx`).
import type { ObjectValue, ResourceDefinition } from '../resources/types.js';
import { str } from '../resources/values.js';

/** The Pulumi id of an object the definition returned. */
export function pulumiId(def: ResourceDefinition, values: ObjectValue): string {
  const id = str(values, 'id');
  return def.name === 'real_server' ? `${str(values, 'virtual_service_id')}/${id}` : id;
}

/** The definition's `id` attribute for a Pulumi id (the part after the last slash). */
export function definitionId(pulumiIdValue: string): string {
  const slash = pulumiIdValue.lastIndexOf('/');
  return slash < 0 ? pulumiIdValue : pulumiIdValue.slice(slash + 1);
}
