// The load tools of the benchmark (wrk, h2load, hey, curl, all from Debian) and parsers of
// what they print. Every tool is a C or Go program, so the client costs the same whichever
// proxy is measured.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian packages the benchmark needs, by the command that shows each is there. */
const PACKAGES: Record<string, string> = {
  haproxy: 'haproxy',
  nginx: 'nginx',
  wrk: 'wrk',
  h2load: 'nghttp2-client',
  hey: 'hey',
  curl: 'curl',
};

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs whatever is missing with apt-get (the machine and CI run as root). */
export function ensureTools(): void {
  const missing = Object.entries(PACKAGES)
    .filter(([cmd]) => !has(cmd))
    .map(([, pkg]) => pkg);
  let streamModule = false;
  try {
    execFileSync('sh', ['-c', 'ls /usr/lib/nginx/modules/ngx_stream_module.so'], { stdio: 'ignore' });
    streamModule = true;
  } catch {
    missing.push('libnginx-mod-stream');
  }
  if (missing.length === 0 && streamModule) return;
  process.stderr.write(`bench: installing ${missing.join(' ')} with apt-get\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
  }
}

/** Throughput and latency of one run. */
export interface LoadResult {
  rps: number;
  p50Ms?: number;
  p99Ms?: number;
  errors?: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === 'us') return n / 1000;
  if (unit === 'ms') return n;
  if (unit === 's') return n * 1000;
  if (unit === 'm') return n * 60_000;
  return NaN;
}

/** wrk: keep-alive (or, with close, a new connection per request) for `seconds`. */
export async function wrk(url: string, seconds: number, connections: number, close = false): Promise<LoadResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(close ? ['-H', 'Connection: close'] : []), url];
  const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const p = (q: string) => {
    const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(stdout);
    return m ? toMs(m[1] as string, m[2] as string) : NaN;
  };
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errCount = Number(errors?.[1] ?? 0) + (socketErrors ? Number(socketErrors[1]) + Number(socketErrors[3]) + Number(socketErrors[4]) : 0);
  return { rps, p50Ms: p('50'), p99Ms: p('99'), errors: errCount };
}

/** h2load: HTTP/2 over TLS, `streams` concurrent streams per connection. */
export async function h2load(url: string, seconds: number, connections: number, streams: number): Promise<LoadResult> {
  const { stdout } = await run('h2load', ['-t1', `-c${connections}`, `-m${streams}`, '-D', String(seconds), url], { maxBuffer: 1 << 20 });
  const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(stdout)?.[1]);
  const failed = Number(/requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed/.exec(stdout)?.[1] ?? NaN);
  if (!/Application protocol: h2/.test(stdout)) throw new Error(`h2load did not negotiate h2 with ${url}:\n${stdout}`);
  return { rps, errors: failed };
}

/** hey: a fixed request rate (`rate` per second in all) for `seconds`; latency percentiles. */
export async function heyAtRate(url: string, seconds: number, connections: number, rate: number): Promise<LoadResult> {
  const perWorker = Math.max(1, Math.round(rate / connections));
  const { stdout } = await run('hey', ['-z', `${seconds}s`, '-c', String(connections), '-q', String(perWorker), url], { maxBuffer: 1 << 22 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const q = (p: string) => Number(new RegExp(`${p}% in ([\\d.]+) secs`).exec(stdout)?.[1]) * 1000;
  return { rps, p50Ms: q('50'), p99Ms: q('99') };
}

/** curl: one download; returns MB/s (10^6 bytes per second). */
export async function download(url: string): Promise<{ mbps: number; bytes: number }> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{speed_download} %{size_download}', url], { maxBuffer: 1 << 20 });
  const [speed, size] = stdout.trim().split(' ').map(Number);
  return { mbps: (speed as number) / 1e6, bytes: size as number };
}
