// Check and CheckConfig: the program's inputs validated by the shared definitions (types,
// bounds, formats, presence, cross-property rules), each problem a failure on the property
// it concerns, and the inputs returned with the contract's defaults filled in and every
// secret still wrapped. Unknown values are checked once they are known.
import { providerAttributes, resolveSettings } from '../resources/provider-config.js';
import type { Attributes, Issue, ObjectValue, ResourceDefinition, Value } from '../resources/types.js';
import { validateAll, validateConfig } from '../resources/validate.js';
import { isWhollyKnown } from '../resources/values.js';
import { withDefaults } from './defaults.js';
import { PulumiErrorCode } from './errors.js';
import { isInput, propertyName, propertyPath, toDefinitionValues, toPropertyBag } from './properties.js';
import type { DecodedProperties } from './property-values.js';
import { coerceSettings } from './provider-config.js';

/** A check failure as pulumirpc.CheckFailure carries it. */
export interface Failure {
  /** Property path (`healthCheck.port`); empty for the whole object. */
  property: string;
  /** The reason, ending with the stable code in brackets. */
  reason: string;
}

/** What Check answers: the inputs to use from now on, and the failures. */
export interface CheckResult {
  /** Checked inputs as a definition value (every attribute present). */
  values: ObjectValue;
  /** The same as a property bag, and which of its properties are secret. */
  inputs: ObjectValue;
  secrets: Set<string>;
  failures: Failure[];
  /** Problems that do not stop the run. */
  warnings: Issue[];
}

function failureOf(issue: Issue): Failure {
  return { property: propertyPath(issue.path), reason: `${issue.detail} [${issue.code}]` };
}

/** Whether a value holds a PEM private key anywhere (pasted into the wrong property, say). */
function holdsPrivateKey(v: Value | undefined): boolean {
  if (typeof v === 'string') return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v);
  if (Array.isArray(v)) return v.some(holdsPrivateKey);
  if (v !== null && typeof v === 'object') return Object.values(v).some(holdsPrivateKey);
  return false;
}

/**
 * Secret properties of a bag: those sent as secrets, those the schema calls sensitive, and
 * any that holds a private key, so a key pasted into `certificatePem` is not answered (and
 * stored) in plain text while Check reports the mistake.
 */
export function secretProperties(attributes: Attributes, bag: ObjectValue, sentSecret: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const [name, attr] of Object.entries(attributes)) {
    const prop = propertyName(name);
    if (!(prop in bag)) continue;
    if (attr.sensitive || sentSecret.has(prop) || holdsPrivateKey(bag[prop])) out.add(prop);
  }
  return out;
}

function unknownPropertyFailures(paths: (string | number)[][]): Failure[] {
  return paths.map((p) => ({ property: propertyPath(p), reason: `${propertyPath(p)} is not a property of this resource [${PulumiErrorCode.UnknownProperty}]` }));
}

function split(issues: Issue[]): { errors: Issue[]; warnings: Issue[] } {
  return { errors: issues.filter((i) => i.severity !== 'warning'), warnings: issues.filter((i) => i.severity === 'warning') };
}

/** Check of a resource's inputs. */
export function checkResource(def: ResourceDefinition, news: DecodedProperties, olds?: DecodedProperties): CheckResult {
  const unknownPaths: (string | number)[][] = [];
  const values = withDefaults(def.attributes, toDefinitionValues(def.attributes, news.values, unknownPaths));
  // The prior inputs (none for a create): checks such as "a new certificate needs its key" depend on them.
  const prior = olds && Object.keys(olds.values).length > 0 ? withDefaults(def.attributes, toDefinitionValues(def.attributes, olds.values, [])) : null;
  const { errors, warnings } = split(validateAll(def, values, prior));
  const inputs = toPropertyBag(def.attributes, values, (_n, attr) => isInput(attr));
  return { values, inputs, secrets: secretProperties(def.attributes, inputs, news.secrets), failures: [...unknownPropertyFailures(unknownPaths), ...errors.map(failureOf)], warnings };
}

/**
 * CheckConfig of the provider's settings. Missing settings are failures only when the
 * environment does not supply them either and every setting is known.
 */
export function checkProviderConfig(news: DecodedProperties, env: NodeJS.ProcessEnv = process.env): CheckResult {
  const unknownPaths: (string | number)[][] = [];
  // Pulumi's own keys (`version`, `pluginDownloadURL`) travel with the provider's inputs.
  const own = Object.fromEntries(Object.entries(news.values).filter(([k]) => k !== 'version' && k !== 'pluginDownloadURL'));
  const values = coerceSettings(toDefinitionValues(providerAttributes, own, unknownPaths));
  const issues = validateConfig(providerAttributes, values);
  if (issues.length === 0 && Object.values(values).every(isWhollyKnown)) issues.push(...resolveSettings(values, env).issues);
  const { errors, warnings } = split(issues);
  const inputs = { ...toPropertyBag(providerAttributes, values), ...Object.fromEntries(Object.entries(news.values).filter(([k]) => k === 'version' || k === 'pluginDownloadURL')) };
  return { values, inputs, secrets: secretProperties(providerAttributes, inputs, news.secrets), failures: [...unknownPropertyFailures(unknownPaths), ...errors.map(failureOf)], warnings };
}
