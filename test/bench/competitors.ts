// The same topology for every proxy: a backend nginx, and in front of it lbappliance,
// HAProxy and nginx, each with an HTTP/1.1 keep-alive listener, a TLS listener with ALPN
// h2, and a TCP listener. HAProxy and the nginx proxy run with their stock threading
// (HAProxy: one thread per CPU; nginx: worker_processes auto); a second HAProxy runs with
// `nbthread 1` beside the stock one, so a single-threaded comparison is visible too.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where things listen. */
export const TOPOLOGY = {
  backend: '127.0.90.6',
  backendHttp: 8081,
  backendTls: 8443,
  lbappliance: '127.0.90.10',
  /** lbappliance with `--engine-workers 1` (traffic in the engine's own process). */
  lbappliance1: '127.0.90.11',
  /** lbappliance with `--engine haproxy`. */
  lbhaproxy: '127.0.90.12',
  haproxy: '127.0.90.20',
  /** HAProxy with `nbthread 1`: the single-threaded comparison. */
  haproxy1: '127.0.90.21',
  nginx: '127.0.90.30',
  httpPort: 8080,
  tlsPort: 8443,
  tcpPort: 9000,
} as const;

const T = TOPOLOGY;

/** nginx as the backend: a small response at /, a big file for the bulk test, TLS + h2 for the direct h2 baseline. */
export function backendNginxConf(dir: string): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/backend.pid;
error_log ${dir}/backend-error.log;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen ${T.backend}:${T.backendHttp};
    listen ${T.backend}:${T.backendTls} ssl http2;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    root ${dir}/www;
    location = / { return 200 "hello world\\n"; }
  }
}
`;
}

/** nginx as a proxy, same topology. */
export function proxyNginxConf(dir: string): string {
  return `worker_processes auto;
daemon off;
pid ${dir}/proxy.pid;
error_log ${dir}/proxy-error.log;
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  upstream be { server ${T.backend}:${T.backendHttp}; keepalive 256; }
  server {
    listen ${T.nginx}:${T.httpPort};
    listen ${T.nginx}:${T.tlsPort} ssl http2;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
stream {
  server { listen ${T.nginx}:${T.tcpPort}; proxy_pass ${T.backend}:${T.backendHttp}; }
}
`;
}

/** HAProxy, same topology: stock threading (one thread per CPU), or `nbthread 1` on its own address. */
export function haproxyConf(dir: string, threads: 'stock' | 1 = 'stock'): string {
  const at = threads === 1 ? T.haproxy1 : T.haproxy;
  return `global
  maxconn 8000${threads === 1 ? '\n  nbthread 1' : ''}
  tune.ssl.default-dh-param 2048
defaults
  timeout client 60s
  timeout server 60s
  timeout connect 4s
frontend http
  mode http
  option http-keep-alive
  bind ${at}:${T.httpPort}
  bind ${at}:${T.tlsPort} ssl crt ${dir}/haproxy.pem alpn h2,http/1.1
  default_backend be
backend be
  mode http
  http-reuse always
  server s1 ${T.backend}:${T.backendHttp}
listen tcp
  mode tcp
  bind ${at}:${T.tcpPort}
  server s1 ${T.backend}:${T.backendHttp}
`;
}

/** A started process that is stopped at the end. */
export interface Proc {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Writes a config file and starts a program in the foreground. */
export async function startProgram(dir: string, name: string, command: string, args: string[], config: string, configName: string): Promise<Proc> {
  await writeFile(join(dir, configName), config);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 700);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
