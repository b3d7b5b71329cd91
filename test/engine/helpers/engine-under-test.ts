// The engine a behaviour suite runs against. The suites in test/engine run on the embedded
// engine; test/haproxy re-runs the same files with LBAPPLIANCE_TEST_ENGINE=haproxy (set by
// test/haproxy/helpers/use-haproxy.ts before the suite loads), on loopback subnets of their
// own so that both runs can go on at once.

/** The engine under test. */
export const ENGINE: 'embedded' | 'haproxy' = process.env.LBAPPLIANCE_TEST_ENGINE === 'haproxy' ? 'haproxy' : 'embedded';

/** Whether the HAProxy engine is under test. */
export const HAPROXY = ENGINE === 'haproxy';

/** A suite's loopback subnet: `127.0.7x` as written for the embedded engine, `127.0.12x` for HAProxy. */
export function subnet(embedded: string): string {
  if (!HAPROXY) return embedded;
  const m = /^127\.0\.7(\d)$/.exec(embedded);
  if (!m) throw new Error(`no HAProxy subnet for ${embedded}`);
  return `127.0.12${m[1]}`;
}

/** A port on a shared address (::1) that the two runs must not both take. */
export function sharedPort(embedded: number): number {
  return HAPROXY ? embedded + 10 : embedded;
}
