// Contract-driven fuzzing of the whole API (issue 19): for every operation of
// openapi/appliance.yaml, requests generated from its own parameters and schemas (valid
// bodies with hostile text, bodies broken in one place, hostile JSON anywhere: wrong types,
// boundaries, lone surrogates, 10,000 levels of nesting, __proto__; traversal and oversized
// ids; garbage and weak If-Match; no, wrong and garbage credentials; the read-only user),
// sent raw to a real appliance. Every answer must keep the contract's promises: no 500 (nor a
// 5xx the operation does not declare), an RFC 9457 problem document for every error, only
// statuses the operation declares, every 2xx body valid against its schema, the revision
// unchanged after every refused write, 401 (403 for the read-only user) before any body is
// read, and If-Match compared strongly. fast-check runs with a fixed seed and a bounded
// number of runs, in strata (every kind of body on an existing object, then hostile path
// parameters, query strings, If-Match), so each kind of hostility reaches each operation; a
// failure names the operation and the stratum and shows the request and the response.
// LBAPPLIANCE_FUZZ_SURVEY=1 runs every case and lists each kind of failure instead of the
// first; LBAPPLIANCE_FUZZ_SCALE=N multiplies the runs for a longer hunt.
//
// Destructive operations are kept sensible: the appliance under test stays standalone and
// keeps its administrator. createHaPair always points at a closed port of this file's
// loopback range (it can only fail, 502); joinHaPair with a valid body and the peer
// operations with a valid token run against a throwaway appliance that joins an imaginary
// primary and leaves again; setUserPassword never targets `loadbalancer` or the read-only
// observer (only a victim user the test recreates); objects the fuzzer deletes or a restore
// wipes out (the fixture VIP, real server, certificate, victim user) are recreated before
// the next request that needs them.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKeys } from '../../appliance/ha/pair-keys.js';
import type { ApplianceClient } from '../../openapi/sdk/index.js';
import { startTestAppliance, type TestAppliance } from '../helpers/appliance-process.js';
import { addressed, closeAgents, contractViolations, exchange, operation, operations, send, sendRaw, type FuzzRequest, type FuzzResponse, type OperationInfo } from '../helpers/contract-probe.js';
import { garbageAuthorization, type Noted } from '../helpers/hostile-values.js';
import { oversizedBody, strata, unauthenticatedPlans, type BodyFix, type RequestPlan } from '../helpers/request-arbitrary.js';

/** The seed of every property here: a failure replays exactly. */
const SEED = 19;
/** Runs per operation and family; LBAPPLIANCE_FUZZ_SCALE multiplies them for a longer hunt. */
const SCALE = Number(process.env.LBAPPLIANCE_FUZZ_SCALE ?? 1);
const RUNS = { credentials: 8 * SCALE, ifMatch: 6 * SCALE, oversized: 1, http: 4 * SCALE };

// This file's loopback range is 127.0.190.0 - 127.0.194.255.
const FIXTURE_VIP_ADDRESS = '127.0.192.1';
const CLOSED_PEER = 'https://127.0.193.9:1';
const JOIN = { secondaryAddress: '127.0.193.2', primaryAddress: '127.0.193.3', primaryEndpoint: 'https://127.0.193.3:1', secondaryEndpoint: 'https://127.0.193.2:9443' };
const OBSERVER = { username: 'fuzz-observer', password: 'observer-password-0123' };
const VICTIM = { username: 'fuzz-victim', password: 'victim-password-01234' };

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Who sends a request and with what. */
interface Credentials {
  who: string;
  authorization?: string;
  /** Wrong passwords come from their own rotating source addresses (the failure brake counts per address). */
  rotate?: boolean;
}

let app: TestAppliance;
let client: ApplianceClient;
let ADMIN: Credentials;
const READ_ONLY: Credentials = { who: 'the read-only user', authorization: basic(OBSERVER.username, OBSERVER.password) };
let wrongPasswords = 0;

/** Objects of the appliance under test that "an existing id" means, recreated when the fuzzer removed them. */
const world = { vip: '', rs: '', cert: '', syslog: '', port: 10_000 };

async function ensureWorld(c: ApplianceClient): Promise<void> {
  if (!world.vip || !(await c.getVirtualService(world.vip).then(() => true, () => false))) {
    for (let attempt = 0; !world.vip || attempt === 0; attempt++) {
      if (attempt === 50) throw new Error('cannot create the fixture virtual service');
      const port = ++world.port;
      const vs = await c.createVirtualService({ label: `fuzz-fixture-${port}`, ipAddress: FIXTURE_VIP_ADDRESS, ports: [port], protocol: 'http' }).catch(() => null);
      if (vs) world.vip = vs.id;
    }
    world.rs = '';
  }
  if (!world.rs || !(await c.getRealServer(world.vip, world.rs).then(() => true, () => false))) {
    world.rs = (await c.createRealServer(world.vip, { label: `fuzz-rs-${++world.port}`, address: '127.0.192.2', port: 8080 })).id;
  }
  if (!world.cert || !(await c.getCertificate(world.cert).then(() => true, () => false))) {
    world.cert = (await c.createCertificate({ label: `fuzz-cert-${++world.port}`, selfSigned: { commonName: 'fuzz.example' } })).id;
  }
  if (!world.syslog || !(await c.getSyslogCollector(world.syslog).then(() => true, () => false))) {
    // A UDP collector on a loopback port nothing listens on: messages to it go nowhere.
    world.syslog = (await c.createSyslogCollector({ label: `fuzz-syslog-${++world.port}`, host: '127.0.192.3', transport: 'udp' })).id;
  }
  const users = (await c.listUsers()).items.map((u) => u.username);
  if (!users.includes(OBSERVER.username)) await c.createUser({ ...OBSERVER, role: 'read-only' });
  if (!users.includes(VICTIM.username)) await c.createUser({ ...VICTIM, role: 'admin' });
}

/** The appliance a family of probes talks to, and how it reads that appliance's revision. */
interface Target {
  endpoint: string;
  revision: () => Promise<number>;
  /** Resolves "an existing <param>" of an operation. */
  existing: (op: OperationInfo, param: string) => Promise<string>;
  /** Prepares the world before a request that refers to existing objects. */
  prepare: () => Promise<void>;
}

let main: Target;

async function revisionOf(endpoint: string, authorization: string, path = '/api/v1/config'): Promise<number> {
  const res = await send(endpoint, { method: 'GET', path, headers: { authorization }, who: 'the test', note: 'revision read' });
  if (res.status !== 200) throw new Error(`reading the revision at ${path} answered ${res.status}: ${res.text}`);
  return (JSON.parse(res.text) as { revision: number }).revision;
}

/** A client of the fixture VIP's persistence table (it may have no entry: 404 is declared). */
const FIXTURE_CLIENT = '127.0.192.77';

/** The path parameters that name the world's objects (and the fixture client). */
function worldSegments(): Record<string, string> {
  return { virtualServiceId: world.vip, realServerId: world.rs, certificateId: world.cert, syslogCollectorId: world.syslog, client: FIXTURE_CLIENT };
}

function pathOf(op: OperationInfo, segments: Record<string, string>): string {
  return op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => segments[name] ?? '');
}

/** The current ETag of what an operation's If-Match refers to ('"none"' when it has none). */
async function currentEtag(target: Target, op: OperationInfo, path: string): Promise<{ etag: string; config: boolean }> {
  const read = operations.find((o) => o.method === 'GET' && o.path === op.path);
  const readPath = read ? path : '/api/v1/config';
  const res = await send(target.endpoint, { method: 'GET', path: readPath, headers: { authorization: ADMIN.authorization as string }, who: 'the test', note: 'ETag read' });
  return { etag: res.headers.etag ?? '"none"', config: !read || op.path === '/api/v1/config' };
}

/** Turns a plan into the request to send, resolving existing ids and the current ETag. */
async function materialise(target: Target, op: OperationInfo, plan: RequestPlan, creds: Credentials): Promise<FuzzRequest> {
  const notes: string[] = [];
  if (Object.values(plan.segments).some((s) => s.existing) || plan.ifMatch.kind === 'weak-of-current' || plan.ifMatch.kind === 'stale') await target.prepare();
  const segments: Record<string, string> = {};
  for (const [name, seg] of Object.entries(plan.segments)) {
    segments[name] = seg.existing ? await target.existing(op, name) : seg.value;
    notes.push(seg.note);
  }
  const path = pathOf(op, segments) + plan.query.value;
  if (plan.query.value) notes.push(`query: ${plan.query.note}`);
  const headers: Record<string, string> = {};
  if (creds.authorization !== undefined) headers.authorization = creds.authorization;
  if (plan.ifMatch.kind === 'value') {
    headers['if-match'] = plan.ifMatch.value;
    notes.push('a garbage If-Match');
  } else if (plan.ifMatch.kind !== 'none') {
    const { etag, config } = await currentEtag(target, op, pathOf(op, segments));
    if (plan.ifMatch.kind === 'weak-of-current') headers['if-match'] = `W/${etag}`;
    else headers['if-match'] = config ? `"r${(await target.revision()) - 1}"` : '"0000000000000000"';
    notes.push(plan.ifMatch.kind === 'weak-of-current' ? 'If-Match: the weak form of the current ETag' : 'If-Match: a stale ETag');
  }
  if (plan.body) {
    if (plan.body.contentType !== undefined) headers['content-type'] = plan.body.contentType;
    notes.push(`body: ${plan.body.note}${plan.body.contentType === undefined ? ' without Content-Type' : plan.body.contentType === op.bodyContentTypes[0] ? '' : ` as ${plan.body.contentType}`}`);
  }
  const from = creds.rotate ? `127.0.191.${1 + (Math.floor(wrongPasswords++ / 4) % 250)}` : undefined;
  return { method: op.method, path, headers, body: plan.body?.value, who: creds.who, note: notes.join('; ') || 'plain', from };
}

/** Extra promises a family makes about an answer. */
type Expectation = (res: FuzzResponse) => string[];

/** Sends one planned request and judges it; the failure text, or null when the answer keeps every promise. */
async function probe(target: Target, op: OperationInfo, plan: RequestPlan, creds: Credentials, expectation?: Expectation): Promise<string | null> {
  const req = await materialise(target, op, plan, creds);
  const addressee = addressed(req.method, req.path);
  const writes = typeof addressee !== 'number' && addressee.write !== null;
  const before = writes ? await target.revision() : 0;
  let res: FuzzResponse;
  try {
    res = await send(target.endpoint, req);
  } catch (err) {
    return `- no answer: ${(err as Error).message}\n${exchange(op.id, req, null)}`;
  }
  const broken = contractViolations(addressee, res);
  if (plan.ifMatch.kind !== 'none' && res.status >= 200 && res.status < 300) broken.push(`a write with an If-Match that does not strongly match the current ETag succeeded (${res.status})`);
  if (writes && res.status >= 400) {
    const after = await target.revision();
    if (after !== before) broken.push(`a refused write moved the revision from ${before} to ${after}`);
  }
  broken.push(...(expectation?.(res) ?? []));
  return broken.length > 0 ? `${broken.map((b) => `- ${b}`).join('\n')}\n${exchange(op.id, req, res)}` : null;
}

/** LBAPPLIANCE_FUZZ_SURVEY=1: run every case and report each distinct kind of failure, not only the first. */
const SURVEY = process.env.LBAPPLIANCE_FUZZ_SURVEY === '1';

/** Runs a property over generated requests with the fixed seed; fails with the first counterexample's full story. */
async function fuzz<T>(arb: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<string | null>, stratum?: string): Promise<void> {
  let failure: string | null = null;
  const seen = new Map<string, string>();
  const details = await fc.check(
    fc.asyncProperty(arb, async (value) => {
      failure = await check(value);
      if (SURVEY && failure !== null) {
        const kind = (failure.split('\n')[0] ?? '').replace(/\d+/g, 'N');
        if (!seen.has(kind)) seen.set(kind, failure);
        return true;
      }
      return failure === null;
    }),
    { seed: SEED, numRuns, endOnFailure: true },
  );
  const where = stratum ? `stratum: ${stratum}\n` : '';
  if (details.failed) throw new Error(`${where}${failure ?? String(details.errorInstance)}\n(fast-check seed ${SEED}, run ${details.numRuns}, path ${details.counterexamplePath ?? '-'})`);
  if (seen.size > 0) throw new Error(where + [...seen.values()].join('\n\n'));
}

/** Runs every stratum; fails with the first stratum's failure (in survey mode: with every stratum's). */
async function survey<S>(all: S[], run: (stratum: S) => Promise<void>): Promise<void> {
  const failures: string[] = [];
  for (const stratum of all) {
    try {
      await run(stratum);
    } catch (err) {
      failures.push((err as Error).message);
      if (!SURVEY) break;
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
}

const expectStatus =
  (...allowed: number[]): Expectation =>
  (res) =>
    allowed.includes(res.status) ? [] : [`expected ${allowed.join(' or ')}, got ${res.status}`];

const withChallenge: Expectation = (res) => (res.status === 401 && !res.headers['www-authenticate'] ? ['a 401 without WWW-Authenticate'] : []);

/** Makes generated bodies safe for the appliance under test (see the header comment). */
const fixes: Partial<Record<string, BodyFix>> = {
  // Pairing may only ever fail: nothing listens there.
  createHaPair: (b) => ({ ...(b as object), peerEndpoint: CLOSED_PEER }),
  // RSA-4096 generation takes seconds; the key type is not what is fuzzed here.
  createCertificate: fixKeyType,
  replaceCertificate: fixKeyType,
  updateCertificate: fixKeyType,
  // The throwaway node's pair lives in this file's loopback range.
  joinHaPair: (b) => ({ ...(b as object), ...JOIN }),
};

function fixKeyType(b: unknown): unknown {
  const body = b as { selfSigned?: { keyType?: string } } | null;
  if (body?.selfSigned?.keyType === 'rsa-4096') body.selfSigned.keyType = 'ecdsa-p256';
  return body;
}

/** Operations fuzzed on the appliance under test with the administrator's credentials. */
const adminOperations = operations.filter((o) => !o.peerAuth && o.id !== 'joinHaPair');
/** Operations that take credentials. */
const guarded = operations.filter((o) => o.auth || o.peerAuth);
/** Operations that take a body. */
const withBody = operations.filter((o) => o.bodyContentTypes.length > 0);

beforeAll(async () => {
  app = await startTestAppliance();
  client = app.client();
  ADMIN = { who: 'the administrator', authorization: basic('loadbalancer', app.password) };
  await ensureWorld(client);
  main = {
    endpoint: app.endpoint,
    revision: () => revisionOf(app.endpoint, ADMIN.authorization as string),
    prepare: () => ensureWorld(client),
    existing: async (op, param) => {
      if (param === 'virtualServiceId') return world.vip;
      if (param === 'realServerId') return world.rs;
      if (param === 'certificateId') return world.cert;
      if (param === 'revision') return String(Math.max(1, (await main.revision()) - 1));
      if (param === 'username') return VICTIM.username;
      if (param === 'syslogCollectorId') return world.syslog;
      if (param === 'client') return FIXTURE_CLIENT;
      throw new Error(`no existing value for ${op.id} ${param}`);
    },
  };
});
afterAll(async () => {
  await closeAgents();
  await app?.dispose();
});

describe('every operation keeps its contract under generated requests (the administrator; the read-only user reading)', () => {
  for (const op of adminOperations) {
    it(op.id, async () => {
      const who = op.write ? fc.constant(ADMIN) : op.auth ? fc.constantFrom(ADMIN, ADMIN, READ_ONLY) : fc.constant<Credentials>({ who: 'nobody (no credentials needed)' });
      await survey(strata(op, fixes[op.id], SCALE), (stratum) => fuzz(fc.tuple(stratum.plans, who), stratum.runs, ([plan, creds]) => probe(main, op, plan, creds, withChallenge), stratum.name));
    });
  }
});

// Every case here must be refused, so the revision must not move at all: the cases run concurrently
// (the failure brake makes them slow one by one) on a world prepared once, before them.
describe.concurrent('credentials are judged before anything else: 401 without or with wrong ones, 403 for the read-only user writing', () => {
  let steady: Target;
  beforeAll(async () => {
    await main.prepare();
    steady = { ...main, prepare: async () => undefined };
  });

  for (const op of guarded) {
    it(op.id, async () => {
      const refused: fc.Arbitrary<Credentials> = fc.oneof(
        fc.constant<Credentials>({ who: 'nobody (no Authorization header)' }),
        // Some garbage still parses as a (wrong) user and password: it comes from a rotating address too.
        garbageAuthorization.map((g: Noted<string>) => ({ who: `a garbage Authorization header (${g.note})`, authorization: g.value, rotate: true })),
        // Each wrong password costs 250 ms (the appliance's brake): one case in six.
        fc.constantFrom<Credentials>(
          { who: 'loadbalancer with a wrong password', authorization: basic('loadbalancer', 'not-the-password-0123'), rotate: true },
          { who: 'an unknown user', authorization: basic('nobody-here', 'not-the-password-0123'), rotate: true },
        ),
        fc.constant<Credentials>({ who: 'nobody (no Authorization header)' }),
        fc.constant<Credentials>({ who: 'nobody (an empty Authorization header)', authorization: '' }),
        ...(op.peerAuth ? [fc.constantFrom<Credentials>({ who: 'the administrator (Basic, not the peer token)', authorization: basic('loadbalancer', app.password) }, { who: 'a wrong peer token', authorization: `Bearer ${'A'.repeat(43)}` })] : []),
      );
      const cases = fc.oneof(
        refused.map((c) => ({ creds: c, status: 401 })),
        ...(op.write && op.auth ? [fc.constant({ creds: READ_ONLY, status: 403 })] : []),
      );
      await fuzz(fc.tuple(unauthenticatedPlans(op), cases), RUNS.credentials, ([plan, c]) => probe(steady, op, plan, c.creds, (res) => [...expectStatus(c.status)(res), ...withChallenge(res)]));
    });
  }

  it('answers 401 (403 for the read-only user) without waiting for the request body', async () => {
    const late: string[] = [];
    await Promise.all(
      guarded.flatMap((op) => {
        const path = pathOf(op, { ...worldSegments(), revision: '1', username: VICTIM.username });
        const asks: { creds: string; who: string; status: number }[] = [{ creds: '', who: 'nobody', status: 401 }];
        if (op.write && op.auth) asks.push({ creds: `authorization: ${READ_ONLY.authorization as string}\r\n`, who: 'the read-only user', status: 403 });
        return asks.map(async (ask) => {
          const head = `${op.method} ${path} HTTP/1.1\r\nhost: appliance\r\ncontent-type: ${op.bodyContentTypes[0] ?? 'application/json'}\r\ncontent-length: 1000\r\n${ask.creds}\r\n`;
          const res = await sendRaw(app.endpoint, head, 3000);
          const broken = !res ? ['no answer within 3 s: the appliance waits for a body it should not need'] : res.status !== ask.status ? [`expected ${ask.status}, got ${res.status}`] : [];
          if (res) broken.push(...contractViolations(op, res));
          if (broken.length > 0) {
            const req: FuzzRequest = { method: op.method, path, headers: { 'content-type': op.bodyContentTypes[0] ?? 'application/json', 'content-length': '1000' }, who: ask.who, note: 'the head only: a 1000-byte body announced and never sent' };
            late.push(`${broken.map((b) => `- ${b}`).join('\n')}\n${exchange(op.id, req, res)}`);
          }
        });
      }),
    );
    expect(late, late.join('\n\n')).toEqual([]);
  });
});

describe('If-Match is compared strongly: a weak or stale tag never lets a write through', () => {
  for (const op of adminOperations.filter((o) => o.ifMatch)) {
    it(op.id, async () => {
      // A body that would succeed: the object as it reads now (PUT), an empty merge patch (PATCH), none otherwise.
      const neutral = async (): Promise<RequestPlan['body']> => {
        if (op.method === 'PATCH') return { value: '{}', contentType: op.bodyContentTypes[0], note: 'an empty merge patch' };
        if (op.method !== 'PUT') return null;
        const path = pathOf(op, worldSegments());
        const current = JSON.parse((await send(app.endpoint, { method: 'GET', path, headers: { authorization: ADMIN.authorization as string }, who: 'the test', note: 'read' })).text) as Record<string, unknown>;
        for (const k of ['id', 'status', 'virtualServiceId', 'source', 'subject', 'commonName', 'subjectAltNames', 'issuer', 'notBefore', 'notAfter', 'serialNumber', 'fingerprintSha256', 'keyType', 'chainPem', 'usedBy']) delete current[k];
        return { value: JSON.stringify(current), contentType: op.bodyContentTypes[0], note: 'the object as it reads now' };
      };
      await fuzz(fc.constantFrom<'weak-of-current' | 'stale'>('weak-of-current', 'stale'), RUNS.ifMatch, async (kind) => {
        await main.prepare();
        const segments = Object.fromEntries(op.pathParams.map((p) => [p.name, { existing: true as const, note: `an existing ${p.name}` }]));
        return probe(main, op, { segments, query: { value: '', note: '' }, ifMatch: { kind }, body: await neutral() }, ADMIN);
      });
    });
  }
});

describe('bodies over the 1 MiB limit get the 413 the contract declares', () => {
  for (const op of withBody.filter((o) => o.auth)) {
    it(op.id, async () => {
      await fuzz(fc.constant(null), RUNS.oversized, async () => {
        const segments = Object.fromEntries(op.pathParams.map((p) => [p.name, { existing: true as const, note: `an existing ${p.name}` }]));
        return probe(main, op, { segments, query: { value: '', note: '' }, ifMatch: { kind: 'none' }, body: oversizedBody(op) }, ADMIN, expectStatus(413));
      });
    });
  }
});

/** Requests no HTTP client library would send: each must still get a problem document (and a contract status where it addresses an operation). */
const RAW_GARBAGE: { name: string; make: (path: string, auth: string) => string }[] = [
  { name: 'an unknown method (FOO)', make: (p, a) => `FOO ${p} HTTP/1.1\r\nhost: x\r\n${a}connection: close\r\n\r\n` },
  { name: 'a lower-case method', make: (p, a) => `get ${p} HTTP/1.1\r\nhost: x\r\n${a}connection: close\r\n\r\n` },
  { name: 'a lone % in the path', make: (p, a) => `GET ${p}/% HTTP/1.1\r\nhost: x\r\n${a}connection: close\r\n\r\n` },
  { name: 'a 5,000-character path segment', make: (p, a) => `GET ${p}/${'a'.repeat(5000)} HTTP/1.1\r\nhost: x\r\n${a}connection: close\r\n\r\n` },
  { name: 'a 200 KB header', make: (p, a) => `GET ${p} HTTP/1.1\r\nhost: x\r\n${a}x-big: ${'a'.repeat(200_000)}\r\nconnection: close\r\n\r\n` },
  { name: '10,000 headers', make: (p, a) => `GET ${p} HTTP/1.1\r\nhost: x\r\n${a}${Array.from({ length: 10_000 }, (_, i) => `x-h${i}: v\r\n`).join('')}connection: close\r\n\r\n` },
  { name: 'a Content-Length that is not a number', make: (p, a) => `POST ${p} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ncontent-length: abc\r\nconnection: close\r\n\r\n{}` },
  { name: 'both Content-Length and Transfer-Encoding', make: (p, a) => `POST ${p} HTTP/1.1\r\nhost: x\r\n${a}content-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n` },
];

describe('requests no client library would send still get a problem document', () => {
  for (const garbage of RAW_GARBAGE) {
    it(garbage.name, async () => {
      await main.prepare();
      await fuzz(fc.tuple(fc.constantFrom(...guarded), fc.boolean()), RUNS.http, async ([op, withCreds]) => {
        const path = pathOf(op, { ...worldSegments(), revision: '1', username: VICTIM.username });
        const raw = garbage.make(path, withCreds ? `authorization: ${ADMIN.authorization as string}\r\n` : '');
        const res = await sendRaw(app.endpoint, raw, 5000);
        const broken = !res ? ['no answer within 5 s'] : [];
        if (res) {
          if (res.status < 400 || res.status >= 500) broken.push(`expected a 4xx, got ${res.status}`);
          // Refused at the HTTP layer, before any operation is chosen: a 4xx problem document is all the contract can ask.
          broken.push(...contractViolations(op, res).filter((v) => !v.startsWith('status ')));
        }
        const req: FuzzRequest = { method: raw.slice(0, raw.indexOf(' ')), path: raw.split(' ')[1] ?? '', headers: withCreds ? { authorization: ADMIN.authorization as string } : {}, who: withCreds ? 'the administrator' : 'nobody', note: garbage.name };
        return broken.length > 0 ? `${broken.map((b) => `- ${b}`).join('\n')}\n${exchange(op.id, req, res)}` : null;
      });
    });
  }
});

describe('HA pairing operations against a throwaway appliance', () => {
  let node: TestAppliance;
  let nodeAdmin: Credentials;
  let token = '';
  let nodeTarget: Target;

  beforeAll(async () => {
    node = await startTestAppliance();
    nodeAdmin = { who: 'the administrator', authorization: basic('loadbalancer', node.password) };
    nodeTarget = {
      endpoint: node.endpoint,
      // While paired, its revision is read the way its primary would (the peer token); its users may be the fuzzer's by then.
      revision: () => (token ? revisionOf(node.endpoint, `Bearer ${token}`, '/api/v1/ha-pair/peer/state') : revisionOf(node.endpoint, nodeAdmin.authorization as string)),
      prepare: async () => undefined,
      existing: async () => 'none',
    };
  });
  afterAll(async () => node?.dispose());

  /** Leaves the pair a valid join formed (the peer token follows from the key and pair id the join carried). */
  async function leave(body: { key: string; pairId: string }): Promise<FuzzResponse> {
    const t = deriveKeys(body.key, body.pairId).apiToken;
    return send(node.endpoint, { method: 'DELETE', path: '/api/v1/ha-pair/peer/join', headers: { authorization: `Bearer ${t}` }, who: 'the peer', note: 'leave' });
  }

  it('joinHaPair', async () => {
    const op = operation('joinHaPair');
    await survey(strata(op, fixes.joinHaPair, 2 * SCALE), (stratum) => fuzz(stratum.plans, stratum.runs, async (plan) => {
      const failure = await probe(nodeTarget, op, plan, nodeAdmin, withChallenge);
      // A join that succeeded made the node a secondary: leave, so the next join starts from a standalone node.
      const state = JSON.parse((await send(node.endpoint, { method: 'GET', path: '/api/v1/ha-pair', headers: { authorization: nodeAdmin.authorization as string }, who: 'the test', note: 'read' })).text) as { state: string };
      if (state.state === 'paired' && Buffer.isBuffer(plan.body?.value) === false) {
        const left = await leave(JSON.parse(String(plan.body?.value)) as { key: string; pairId: string });
        if (failure === null && left.status !== 204) return `- leaving the pair this join formed answered ${left.status}: ${left.text}`;
      }
      return failure;
    }, stratum.name));
  });

  describe('the peer operations, with the pair token of a joined node', () => {
    beforeAll(async () => {
      const body = { pairId: 'f'.repeat(32), key: 'k'.repeat(43), primaryFingerprintSha256: Array.from({ length: 32 }, () => 'AB').join(':'), settings: { heartbeatPort: 46694, replicationPort: 47778, heartbeatIntervalMs: 300, deadTimeMs: 60000, preferPrimary: false }, pairedAt: new Date().toISOString(), term: 1, ...JOIN };
      const res = await send(node.endpoint, { method: 'POST', path: '/api/v1/ha-pair/peer/join', headers: { authorization: nodeAdmin.authorization as string, 'content-type': 'application/json' }, body: JSON.stringify(body), who: 'the test', note: 'join' });
      expect(res.status, res.text).toBe(200);
      token = deriveKeys(body.key, body.pairId).apiToken;
    });

    // leaveHaPair breaks the pair every other peer operation needs: it runs last.
    const peerOps = operations.filter((o) => o.peerAuth).sort((a, b) => Number(a.id === 'leaveHaPair') - Number(b.id === 'leaveHaPair'));
    for (const op of peerOps) {
      it(op.id, async () => {
        const peer: Credentials = { who: 'the peer (pair token)', authorization: `Bearer ${token}` };
        if (op.id === 'leaveHaPair') {
          const failure = await probe(nodeTarget, op, { segments: {}, query: { value: '', note: '' }, ifMatch: { kind: 'none' }, body: null }, peer, withChallenge);
          expect(failure, failure ?? '').toBeNull();
          return;
        }
        await survey(strata(op, undefined, 2 * SCALE), (stratum) => fuzz(stratum.plans, stratum.runs, (plan) => probe(nodeTarget, op, plan, peer, withChallenge), stratum.name));
      });
      if (op.bodyContentTypes.length > 0) {
        it(`${op.id}: a body over the 1 MiB limit gets the 413 the contract declares`, async () => {
          const oversized: RequestPlan = { segments: {}, query: { value: '', note: '' }, ifMatch: { kind: 'none' }, body: oversizedBody(op) };
          const failure = await probe(nodeTarget, op, oversized, { who: 'the peer (pair token)', authorization: `Bearer ${token}` }, expectStatus(413));
          expect(failure, failure ?? '').toBeNull();
        });
      }
    }
  });
});
