// lbappliance_virtual_service: a VIP, its whole life over the SDK. Every writable property
// of the contract's VirtualServiceSpec is an attribute; reads map 1:1 because the appliance
// fills every default, and updates replace the whole object (PUT), so an attribute removed
// from the configuration returns to the contract's default.
// The SDK's types only: the client (undici) is loaded when the provider is configured.
import type { components } from '../../openapi/generated/types.js';
import { contract } from './generated/contract.js';
import { fromApiBody, toApiBody } from './mapping.js';
import { virtualServiceProblems, type VirtualServiceFacts } from '../../openapi/sdk/rules.js';
import { ResourceError, ResourceErrorCode, ruleIssues, unlessGone } from './errors.js';
import { attributesFromContract, idAttribute } from './schema.js';
import type { Attributes, Issue, ObjectValue, ResourceContext, ResourceDefinition } from './types.js';
import { isUnknown, str } from './values.js';
import { readCache, writing } from './read-cache.js';

type VirtualServiceInput = components['schemas']['VirtualServiceInput'];
type VirtualService = components['schemas']['VirtualService'];

const ID = /^vs-[0-9a-f]{12}$/;

/** The attributes of a virtual service (shared with the virtual_service data source). */
export const virtualServiceAttributes: Attributes = {
  id: idAttribute(contract.VirtualService.properties.id.description),
  ...attributesFromContract(contract.VirtualServiceSpec, { ip_address: { format: 'ip' } }),
};

function fromApi(vs: VirtualService): ObjectValue {
  return { id: vs.id, ...fromApiBody(virtualServiceAttributes, vs as unknown as Record<string, unknown>, ['id']) };
}

function body(inputs: ObjectValue): VirtualServiceInput {
  return toApiBody(virtualServiceAttributes, inputs, ['id']) as unknown as VirtualServiceInput;
}

/** What the shared rules need of a configuration: unknown values stay undefined. */
function virtualServiceFacts(config: ObjectValue): VirtualServiceFacts {
  const known = <T>(v: unknown): T | undefined => (isUnknown(v as never) ? undefined : (v as T));
  const persistence = known<ObjectValue | null>(config.persistence);
  const check = known<ObjectValue | null>(config.health_check);
  const bodyMatch = check === undefined || check === null ? check : known<ObjectValue | null>(check.body_match);
  const script = check === undefined || check === null ? check : known<ObjectValue | null>(check.script ?? null);
  const agent = check === undefined || check === null ? check : known<ObjectValue | null>(check.agent ?? null);
  const fallback = known<ObjectValue | null>(config.fallback);
  const limits = known<ObjectValue | null>(config.limits);
  const tls = known<ObjectValue | null>(config.tls);
  const sni = tls ? known<ObjectValue[] | null>(tls.sni_certificates ?? null) : null;
  return {
    forwarding: known<string | null>(config.forwarding),
    forwardedFor: known<boolean | null>(config.forwarded_for),
    algorithm: known<string | null>(config.algorithm),
    ipAddress: known<string | null>(config.ip_address) ?? undefined,
    healthCheck:
      check === undefined || check === null
        ? check
        : {
            type: known<string | null>(check.type),
            port: known<number | null>(check.port),
            bodyMatch: bodyMatch === undefined || bodyMatch === null ? bodyMatch : { kind: known<string | null>(bodyMatch.kind), value: known<string | null>(bodyMatch.value) },
            script: script === undefined || script === null ? script : { path: known<string | null>(script.path ?? null) },
            agent: agent === undefined || agent === null ? agent : { port: known<number | null>(agent.port ?? null) },
          },
    protocol: known<string>(config.protocol) ?? undefined,
    certificateId: known<string | null>(config.certificate_id),
    forceHttps: known<boolean | null>(config.force_https),
    persistence:
      persistence === undefined || persistence === null
        ? persistence
        : {
            mode: known<string | null>(persistence.mode),
            sourceIpFallback: known<boolean | null>(persistence.source_ip_fallback ?? null),
            ipv4PrefixLength: known<number | null>(persistence.ipv4_prefix_length ?? null),
            ipv6PrefixLength: known<number | null>(persistence.ipv6_prefix_length ?? null),
          },
    sendProxy: known<string | null>(config.send_proxy ?? null),
    acceptProxy: known<boolean | null>(config.accept_proxy ?? null),
    transparent: known<boolean | null>(config.transparent),
    fallback:
      fallback === undefined || fallback === null
        ? fallback
        : { mode: known<string | null>(fallback.mode), address: known<string | null>(fallback.address ?? null), port: known<number | null>(fallback.port ?? null) },
    limits: limits === undefined || limits === null ? limits : { maxConnections: known<number | null>(limits.max_connections ?? null) },
    tls:
      tls === undefined || tls === null
        ? tls
        : {
            minVersion: known<string | null>(tls.min_version ?? null),
            ciphers: known<string | null>(tls.ciphers ?? null),
            cipherSuites: known<string | null>(tls.cipher_suites ?? null),
            hstsMaxAge: known<number | null>(tls.hsts_max_age ?? null),
            hstsIncludeSubDomains: known<boolean | null>(tls.hsts_include_sub_domains ?? null),
            // Unknown entries or a list not known yet wait; null and [] are both no SNI certificates.
            sniCertificates: sni === undefined ? undefined : (sni ?? []).map((e) => (isUnknown(e as never) ? undefined : { serverName: known<string | null>(e.server_name) ?? undefined })),
          },
  };
}

/**
 * Warns when the appliance stored the VIP but does not listen on it (issue 16): the write
 * succeeded, so the run does not fail, yet what was configured is not serving, and a CI
 * pipeline must be able to tell (docs/terraform.md shows how to fail on it).
 */
function warnUnlessListening(ctx: ResourceContext, vs: VirtualService): ObjectValue {
  const status = vs.status;
  if (status && status.state === 'down' && !status.listening && status.error) {
    ctx.warning({
      path: ['ip_address'],
      summary: `Virtual service ${vs.label} is not listening`,
      detail: `The appliance stored virtual service ${vs.label} (${vs.id}) but does not listen on ${vs.ipAddress} port ${vs.ports.join(', ')}: ${status.error}. It stays down until that changes (for an address this host does not have: an HA takeover or the network team adding it). [${ResourceErrorCode.VipNotListening}]`,
      code: ResourceErrorCode.VipNotListening,
    });
  }
  return fromApi(vs);
}

async function get(ctx: ResourceContext, id: string): Promise<ObjectValue | null> {
  const vs = await unlessGone(ctx.client.getVirtualService(id, { signal: ctx.signal }));
  return vs && fromApi(vs);
}

/** The virtual service resource. */
export const virtualService: ResourceDefinition = {
  kind: 'resource',
  name: 'virtual_service',
  typeName: 'VirtualService',
  description:
    'A virtual service (VIP): an address and one or more ports on which the appliance accepts clients and balances them over the real servers (`lbappliance_real_server`) attached to it, with optional TLS termination, persistence and health checks.',
  attributes: virtualServiceAttributes,
  importId: { format: 'vs-xxxxxxxxxxxx', example: 'vs-0123456789ab' },
  example: `resource "lbappliance_virtual_service" "avs" {
  label          = "AVS"
  ip_address     = "10.10.40.217"
  ports          = [443]
  protocol       = "http2"
  certificate_id = lbappliance_certificate.avs.id

  persistence = {
    mode = "http-cookie"
  }
  health_check = {
    type = "connect"
  }
}`,
  validate(config): Issue[] {
    // The appliance's own rules (openapi/sdk/rules.ts), on what the plan knows so far.
    return ruleIssues(virtualServiceAttributes, virtualServiceProblems(virtualServiceFacts(config)));
  },
  async create(ctx, inputs) {
    return warnUnlessListening(ctx, await writing(ctx.client, () => ctx.client.createVirtualService(body(inputs), { signal: ctx.signal })));
  },
  async read(ctx, state) {
    // From the configuration the provider read once for the whole refresh (read-cache.ts).
    const id = str(state, 'id');
    const vs = (await readCache(ctx.client).config(ctx.signal)).virtualServices[id];
    return vs ? fromApi({ id, ...vs } as VirtualService) : null;
  },
  async update(ctx, prior, inputs) {
    return warnUnlessListening(ctx, await writing(ctx.client, () => ctx.client.replaceVirtualService(str(prior, 'id'), body(inputs), { signal: ctx.signal })));
  },
  async delete(ctx, state) {
    await writing(ctx.client, () => unlessGone(ctx.client.deleteVirtualService(str(state, 'id'), { signal: ctx.signal })));
  },
  async import(ctx, id) {
    if (!ID.test(id)) throw new ResourceError(ResourceErrorCode.BadImportId, `import id ${JSON.stringify(id)} is not a virtual service id (${this.importId.format})`);
    return get(ctx, id);
  },
};
