// Clients for engine tests: one-shot HTTP requests on fresh or kept connections, raw
// socket exchanges for hostile requests, and a steady load that counts every outcome.
import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A response as a test sees it. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends one HTTP/1.1 request. */
export function get(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent | false; localAddress?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false, localAddress: options.localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes raw bytes on a new connection and collects everything until the server closes (or `waitMs`). */
export function rawExchange(host: string, port: number, data: string | Buffer, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host, port }, () => socket.write(data));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** Outcomes of a steady load. */
export interface LoadReport {
  ok: number;
  failed: number;
  /** Failures by error code or status. */
  errors: Record<string, number>;
  /** Successful responses by backend name (its x-backend header). */
  byBackend: Record<string, number>;
}

/** A steady load: `concurrency` keep-alive loops of GET until stopped. */
export function steadyLoad(url: string, concurrency: number, onReply?: (r: Reply | Error, startedAt: number) => void): { stop: () => Promise<LoadReport>; report: LoadReport } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const report: LoadReport = { ok: 0, failed: 0, errors: {}, byBackend: {} };
  let running = true;
  const loop = async () => {
    while (running) {
      const startedAt = Date.now();
      try {
        const r = await get(url, { agent });
        onReply?.(r, startedAt);
        if (r.status === 200) {
          report.ok++;
          const name = String(r.headers['x-backend'] ?? '?');
          report.byBackend[name] = (report.byBackend[name] ?? 0) + 1;
        } else {
          report.failed++;
          report.errors[`HTTP ${r.status}`] = (report.errors[`HTTP ${r.status}`] ?? 0) + 1;
        }
      } catch (err) {
        onReply?.(err as Error, startedAt);
        report.failed++;
        const code = (err as { code?: string }).code ?? (err as Error).message;
        report.errors[code] = (report.errors[code] ?? 0) + 1;
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    report,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return report;
    },
  };
}
