// Client loops through a VIP for failover tests: each loop opens a new connection per request
// from its own loopback source address (so source-IP persistence tells clients apart), and
// records when every request started and ended, whether it succeeded, and which real server
// answered.
import { request } from 'node:http';

/** One request as a loop saw it. */
export interface Sample {
  startedAt: number;
  endedAt: number;
  ok: boolean;
  /** The real server that answered (its name), or the error code. */
  server: string;
}

/** A running client loop. */
export interface ClientLoop {
  source: string;
  samples: Sample[];
  stop(): Promise<void>;
}

function once(url: string, localAddress: string, headers: Record<string, string>): Promise<{ ok: boolean; server: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, localAddress, headers, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ ok: res.statusCode === 200, server: String(res.headers['x-backend'] ?? Buffer.concat(chunks).toString()) }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, server: err.code ?? err.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, server: err.code ?? err.message }));
    req.end();
  });
}

/** Starts a loop of GETs from `source`, `pauseMs` apart. */
export function clientLoop(url: string, source: string, pauseMs = 10, headers: Record<string, string> = {}): ClientLoop {
  let running = true;
  const samples: Sample[] = [];
  const done = (async () => {
    while (running) {
      const startedAt = Date.now();
      const r = await once(url, source, headers);
      samples.push({ startedAt, endedAt: Date.now(), ...r });
      await new Promise((res) => setTimeout(res, pauseMs));
    }
  })();
  return {
    source,
    samples,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The outage a loop saw after `since`: from the start of its first failed request to the end of the next success. */
export function outageAfter(samples: readonly Sample[], since: number): { gapMs: number; failed: number } | null {
  const first = samples.findIndex((s) => s.startedAt >= since && !s.ok);
  if (first < 0) return null;
  const back = samples.findIndex((s, i) => i > first && s.ok);
  if (back < 0) return null;
  return { gapMs: (samples[back] as Sample).endedAt - (samples[first] as Sample).startedAt, failed: back - first };
}
