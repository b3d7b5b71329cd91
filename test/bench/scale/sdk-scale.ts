// The SDK half of the scale benchmark: `objects` objects (a VIP and its three real servers at
// a time) created by `clients` SDK clients in parallel, each with its own connections, as
// ten automation jobs would. Every call's latency is kept; any failure is counted.
import type { TestAppliance } from '../../helpers/appliance-process.js';

/** What the SDK run measured. */
export interface SdkResult {
  objects: number;
  clients: number;
  seconds: number;
  writesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failures: number;
  firstFailure: string | null;
}

/** The q-quantile of sorted values. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Creates `objects` objects with `clients` parallel clients and reports the latencies. */
export async function sdkScale(app: TestAppliance, objects: number, clients: number, vipNetwork: string, serverNetwork: string, log: (s: string) => void): Promise<SdkResult> {
  const vips = Math.ceil(objects / 4);
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  const timed = async <T>(call: () => Promise<T>): Promise<T | null> => {
    const t = performance.now();
    try {
      return await call();
    } catch (err) {
      failures += 1;
      firstFailure ??= (err as Error).message;
      return null;
    } finally {
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = app.client();
      for (let i = c; i < vips; i += clients) {
        const vs = await timed(() =>
          client.createVirtualService({ label: `SDK-${i}`, ipAddress: `${vipNetwork}.${1 + (i % 250)}`, ports: [8100 + Math.floor(i / 250)], protocol: 'http' }),
        );
        if (!vs) continue;
        for (let j = 1; j <= 3; j++) await timed(() => client.createRealServer(vs.id, { label: `RS-${i}-${j}`, address: `${serverNetwork}.${j}`, port: 9000 }));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  const result: SdkResult = {
    objects: latencies.length,
    clients,
    seconds: r(seconds),
    writesPerSecond: r(latencies.length / seconds),
    p50Ms: r(quantile(latencies, 0.5)),
    p99Ms: r(quantile(latencies, 0.99)),
    maxMs: r(latencies[latencies.length - 1] ?? NaN),
    failures,
    firstFailure,
  };
  log(`SDK: ${result.objects} objects, ${clients} clients: ${result.seconds} s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${failures} failures`);
  return result;
}
