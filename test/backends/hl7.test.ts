// HL7 v2 over MLLP: the server acknowledges with the right control id and names itself;
// framing holds for several messages in one write, one message over many writes and long
// messages; the client rejects wrong ACKs. Addresses 127.0.92.x are this file's own.
import fc from 'fast-check';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestMessage, encodeFrame, Hl7Client, Hl7Server, MllpDecoder, parseAck, sendHl7 } from '../../examples/backends/index.js';

const A = { address: '127.0.92.1', port: 2575 };
let server: Hl7Server;

beforeAll(async () => {
  server = new Hl7Server({ host: 'SERVER1', name: 'hl7-test-1', ...A });
  await server.start();
});
afterAll(async () => {
  await server?.stop();
});

/** Opens a raw socket, writes the given chunks (with a pause between), and collects `frames` ACK frames. */
async function rawExchange(chunks: Buffer[], frames: number): Promise<string[]> {
  const socket: Socket = connect({ host: A.address, port: A.port });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  const decoder = new MllpDecoder();
  const acks: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      for (const b of decoder.push(d)) acks.push(b.toString('utf8'));
      if (acks.length >= frames) resolve();
    });
    socket.on('close', () => reject(new Error(`closed after ${acks.length} ACKs`)));
    setTimeout(() => reject(new Error(`only ${acks.length} of ${frames} ACKs in 5 s`)), 5_000).unref();
  });
  for (const c of chunks) {
    socket.write(c);
    await new Promise((r) => setTimeout(r, 20)); // separate TCP segments
  }
  await done;
  socket.destroy();
  return acks;
}

describe('MLLP decoder', () => {
  it('finds the same messages however the stream is cut into chunks', () => {
    const message = fc.string({ minLength: 1, maxLength: 200 }).map((s) => s.replace(/[\x0b\x1c]/g, 'x'));
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }), (messages, cuts) => {
        const stream = Buffer.concat([Buffer.from('noise before the first frame'), ...messages.map((m) => encodeFrame(m))]);
        const decoder = new MllpDecoder();
        const out: string[] = [];
        let pos = 0;
        for (let i = 0; pos < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          out.push(...decoder.push(stream.subarray(pos, pos + n)).map((b) => b.toString('utf8')));
          pos += n;
        }
        expect(out).toEqual(messages);
      }),
    );
  });

  it('keeps an <FS> that is not followed by <CR> inside the message', () => {
    const body = Buffer.from('MSH|^~\\&|A\x1cB|C');
    expect(new MllpDecoder().push(encodeFrame(body))).toEqual([body]);
  });

  it('refuses a frame over the size limit', () => {
    const decoder = new MllpDecoder({ maxMessageBytes: 100 });
    expect(() => decoder.push(encodeFrame('x'.repeat(101)))).toThrow(expect.objectContaining({ code: 'BACKEND_MLLP_FRAME_TOO_LARGE' }));
    expect(decoder.push(encodeFrame('y'.repeat(100)))).toEqual([Buffer.from('y'.repeat(100))]);
  });
});

describe('HL7 server', () => {
  it('acknowledges each message with MSA|AA|<its control id> and names itself in MSH-3/MSH-4', async () => {
    server.clearLog();
    const acks = await sendHl7(A, [buildTestMessage({ controlId: 'CTRL-1' }), buildTestMessage({ controlId: 'CTRL-2', messageType: 'ORM^O01^ORM_O01' })]);
    expect(acks.map((a) => [a.ackCode, a.controlId, a.sendingApplication, a.sendingFacility])).toEqual([
      ['AA', 'CTRL-1', 'hl7-test-1', '127.0.92.1:2575'],
      ['AA', 'CTRL-2', 'hl7-test-1', '127.0.92.1:2575'],
    ]);
    expect(acks[1]!.raw).toMatch(/^MSH\|\^~\\&\|hl7-test-1\|127\.0\.92\.1:2575\|LBDEMO\|LBDEMO-FACILITY\|\d{14}\|\|ACK\^O01\^ACK\|/);
    expect(server.log.map((m) => [m.controlId, m.messageType, m.ackCode])).toEqual([
      ['CTRL-1', 'ADT^A01^ADT_A01', 'AA'],
      ['CTRL-2', 'ORM^O01^ORM_O01', 'AA'],
    ]);
  });

  it('answers two messages sent in one write with two ACKs in order', async () => {
    const both = Buffer.concat([encodeFrame(buildTestMessage({ controlId: 'TWO-A' })), encodeFrame(buildTestMessage({ controlId: 'TWO-B' }))]);
    const acks = await rawExchange([both], 2);
    expect(acks.map((a) => parseAck(a).controlId)).toEqual(['TWO-A', 'TWO-B']);
  });

  it('answers one message split over many writes, <FS> and <CR> in separate segments', async () => {
    const frame = encodeFrame(buildTestMessage({ controlId: 'SPLIT-1' }));
    const parts = [frame.subarray(0, 1), frame.subarray(1, 10), frame.subarray(10, frame.length - 2), frame.subarray(frame.length - 2, frame.length - 1), frame.subarray(frame.length - 1)];
    server.clearLog();
    const acks = await rawExchange(parts, 1);
    expect(parseAck(acks[0]!)).toMatchObject({ ackCode: 'AA', controlId: 'SPLIT-1' });
    expect(server.log).toHaveLength(1);
  });

  it('receives a 2 MB message intact', async () => {
    const long = buildTestMessage({ controlId: 'LONG-1', minBytes: 2_000_000 });
    server.clearLog();
    const [ack] = await sendHl7(A, [long]);
    expect(ack!.controlId).toBe('LONG-1');
    expect(server.log[0]!.bytes).toBe(Buffer.byteLength(long));
    expect(server.log[0]!.text).toBe(long);
  });

  it('ignores bytes outside frames and answers AR to a frame without MSH', async () => {
    const acks = await rawExchange([Buffer.from('garbage\r\n'), encodeFrame('PID|1||X'), encodeFrame(buildTestMessage({ controlId: 'AFTER' }))], 2);
    expect(parseAck(acks[0]!)).toMatchObject({ ackCode: 'AR', controlId: '' });
    expect(parseAck(acks[1]!)).toMatchObject({ ackCode: 'AA', controlId: 'AFTER' });
  });

  it('refuses connections while stopped and acknowledges again once started', async () => {
    await server.stop();
    await expect(sendHl7(A, [buildTestMessage({ controlId: 'DOWN' })])).rejects.toMatchObject({ code: 'BACKEND_CONNECTION_CLOSED' });
    await server.start();
    expect((await sendHl7(A, [buildTestMessage({ controlId: 'UP' })]))[0]!.controlId).toBe('UP');
  });
});

describe('HL7 client', () => {
  let liar: Server;
  const L = { address: '127.0.92.2', port: 2575 };
  beforeAll(async () => {
    // A server that acknowledges with the wrong control id, or AE, or never.
    liar = createServer((s) => {
      const d = new MllpDecoder();
      s.on('data', (c: Buffer) => {
        for (const b of d.push(c)) {
          const id = /\|([^|]*)\|P\|/.exec(b.toString())![1]!;
          if (id === 'SILENT') continue;
          s.write(encodeFrame(`MSH|^~\\&|LIAR|X|||20260101||ACK|1|P|2.5\rMSA|${id === 'ERR' ? 'AE' : 'AA'}|${id === 'ERR' ? id : 'NOT-' + id}\r`));
        }
      });
    });
    await new Promise<void>((r) => liar.listen(L.port, L.address, r));
  });
  afterAll(() => new Promise<void>((r) => liar.close(() => r())));

  it('rejects an ACK for another control id, a non-AA ACK, and a missing ACK', async () => {
    await expect(sendHl7(L, [buildTestMessage({ controlId: 'X1' })])).rejects.toMatchObject({ code: 'BACKEND_HL7_NACK' });
    await expect(sendHl7(L, [buildTestMessage({ controlId: 'ERR' })])).rejects.toMatchObject({ code: 'BACKEND_HL7_NACK' });
    const client = await Hl7Client.connect({ ...L, timeoutMs: 300 });
    await expect(client.send(buildTestMessage({ controlId: 'SILENT' }))).rejects.toMatchObject({ code: 'BACKEND_HL7_NO_ACK' });
    await client.close();
  });
});
