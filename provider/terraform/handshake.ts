// go-plugin's side of the start: the magic cookie that proves terraform started us, the
// protocol version both sides speak, and the one handshake line on stdout.

/** The cookie terraform sets for its provider plugins. */
export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
/** Its value. */
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
/** The only plugin protocol version this provider speaks (tfplugin6). */
export const PROTOCOL_VERSION = 6;
/** go-plugin's own core protocol version, the first field of the handshake line. */
export const CORE_PROTOCOL_VERSION = 1;

/** Why the plugin cannot start; `exitCode` is what it exits with. */
export class HandshakeError extends Error {
  override name = 'HandshakeError';
  readonly code: 'LBP_NOT_A_PLUGIN' | 'LBP_PROTOCOL_VERSION';
  constructor(code: 'LBP_NOT_A_PLUGIN' | 'LBP_PROTOCOL_VERSION', message: string) {
    super(message);
    this.code = code;
  }
}

/** Checks the cookie and picks the protocol version; throws HandshakeError when it cannot. */
export function negotiate(env: NodeJS.ProcessEnv): number {
  if (env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    throw new HandshakeError(
      'LBP_NOT_A_PLUGIN',
      'This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will load any plugins automatically (terraform-provider-lbappliance is loaded by terraform).',
    );
  }
  const offered = (env.PLUGIN_PROTOCOL_VERSIONS ?? String(PROTOCOL_VERSION)).split(',').map((v) => Number(v.trim()));
  if (!offered.includes(PROTOCOL_VERSION)) {
    throw new HandshakeError('LBP_PROTOCOL_VERSION', `terraform offers plugin protocol versions ${offered.join(', ')}; this provider speaks only version ${PROTOCOL_VERSION} (terraform 1.0 or later).`);
  }
  return PROTOCOL_VERSION;
}

/** The handshake line: `1|6|tcp|127.0.0.1:PORT|grpc|CERT` (CERT: DER, base64 without padding). */
export function handshakeLine(version: number, address: string, certDer: Buffer | null): string {
  const cert = certDer ? certDer.toString('base64').replace(/=+$/, '') : '';
  return `${CORE_PROTOCOL_VERSION}|${version}|tcp|${address}|grpc|${cert}\n`;
}
