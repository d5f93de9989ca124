// The log store's syslog receiver (R6.2): RFC 5424 messages over TLS with RFC 5425 octet
// counting (plain TCP with the same framing, and UDP one message per datagram, optional per
// setting). A sender is a VPS by its source IPv4 — sound because anti-spoofing (R6.3) keeps
// every VPS to its own address — whose client enabled the store; anyone else is refused at
// once and counted. Malformed frames are counted (a broken octet count closes the connection:
// RFC 5425 cannot resynchronise). Lines are buffered per VPS and handed to the log store in
// batches (one zstd frame each); stop() flushes what is buffered: nothing accepted is lost.
import { execFile } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { isSyslogMessage, OctetCountingReader } from '../domain/syslog.ts';
import type { Config } from './config.ts';
import type { Sender } from './repositories/log-store.ts';
import type { LogStoreService } from './services/log-store.ts';

const run = promisify(execFile);

export interface ReceiverStats {
  connections: number;
  refusedUnknown: number;
  malformed: number;
  lines: number;
  dropped: number;
}

export interface SyslogReceiver {
  readonly ports: { tls: number | null; tcp: number | null; udp: number | null };
  readonly stats: ReceiverStats;
  /** Reloads who may send (called by the log store when a client enables or disables it). */
  refresh(): Promise<void>;
  /** Hands every buffered line to the store now. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReceiverOptions {
  host: string;
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
  tcpPort?: number;
  udpPort?: number;
  flushMs?: number;
  /** Flush a VPS's buffer once it holds this many bytes. */
  flushBytes?: number;
}

/** The receiver's certificate: the configured one, or a self-signed one made once (openssl). */
export async function receiverCertificate(config: Config): Promise<{ cert: Buffer; key: Buffer }> {
  if (config.syslogTlsCert && config.syslogTlsKey)
    return { cert: await readFile(config.syslogTlsCert), key: await readFile(config.syslogTlsKey) };
  const dir = path.join(config.dataDir, 'syslog-tls');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  if (!(await stat(cert).catch(() => null))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=infogere-syslog',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
  }
  return { cert: await readFile(cert), key: await readFile(key) };
}

const plainAddress = (a: string | undefined) => (a ?? '').replace(/^::ffff:/, '');

export async function startSyslogReceiver(
  store: LogStoreService,
  log: Logger,
  opts: ReceiverOptions,
): Promise<SyslogReceiver> {
  const flushMs = opts.flushMs ?? 1000;
  const flushBytes = opts.flushBytes ?? 256 * 1024;
  const stats: ReceiverStats = { connections: 0, refusedUnknown: 0, malformed: 0, lines: 0, dropped: 0 };
  let senders = new Map<string, Sender>();
  const pending = new Map<string, { sender: Sender; chunks: Uint8Array[]; bytes: number; lines: number }>();
  const inFlight = new Map<string, Promise<void>>();
  const sockets = new Set<Socket>();
  const NL = new Uint8Array([0x0a]);

  async function refresh() {
    const list = await store.senders();
    senders = new Map(list.map((s) => [s.address, s]));
  }
  await refresh();
  const unsubscribe = store.onChange(
    () => void refresh().catch((err: unknown) => log.error({ err }, 'syslog senders')),
  );

  function flushVps(vpsId: string): Promise<void> {
    const p = pending.get(vpsId);
    if (!p || p.lines === 0) return inFlight.get(vpsId) ?? Promise.resolve();
    pending.delete(vpsId);
    const data = Buffer.concat(p.chunks);
    // One batch at a time per VPS: frames are appended in arrival order.
    const next = (inFlight.get(vpsId) ?? Promise.resolve())
      .then(async () => {
        const ok = await store.ingest(p.sender, data, p.lines);
        if (!ok) stats.dropped += p.lines;
      })
      .catch((err: unknown) => log.error({ err, vpsId }, 'log store write failed'));
    inFlight.set(vpsId, next);
    void next.then(() => {
      if (inFlight.get(vpsId) === next) inFlight.delete(vpsId);
    });
    return next;
  }

  function accept(sender: Sender, msg: Uint8Array) {
    let p = pending.get(sender.vpsId);
    if (!p) pending.set(sender.vpsId, (p = { sender, chunks: [], bytes: 0, lines: 0 }));
    p.chunks.push(msg, NL);
    p.bytes += msg.length + 1;
    p.lines++;
    stats.lines++;
    if (p.bytes >= flushBytes) void flushVps(sender.vpsId);
  }

  function onStream(socket: Socket) {
    const sender = senders.get(plainAddress(socket.remoteAddress));
    if (!sender) {
      stats.refusedUnknown++;
      socket.destroy();
      return;
    }
    stats.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const reader = new OctetCountingReader();
    let errors = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const m of reader.push(chunk)) accept(sender, m);
      const e = reader.errors.bad_length + reader.errors.bad_message + reader.errors.too_large;
      stats.malformed += e - errors;
      errors = e;
      if (reader.broken) socket.destroy();
    });
  }

  const servers: Server[] = [];
  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, opts.host, () => resolve((server.address() as AddressInfo).port));
    });
  let tlsPort: number | null = null;
  let tcpPort: number | null = null;
  let udpPort: number | null = null;
  let udp: UdpSocket | null = null;
  if (opts.tls) {
    const server = createTlsServer(
      { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' },
      onStream,
    );
    // A sender refused before the handshake: counted once there, not again as a TLS error.
    server.on('tlsClientError', () => {});
    servers.push(server);
    tlsPort = await listen(server, opts.tls.port);
  }
  if (opts.tcpPort !== undefined) {
    const server = createTcpServer(onStream);
    servers.push(server);
    tcpPort = await listen(server, opts.tcpPort);
  }
  if (opts.udpPort !== undefined) {
    const sock = createSocket(opts.host.includes(':') ? 'udp6' : 'udp4');
    udp = sock;
    sock.on('message', (msg, rinfo) => {
      const sender = senders.get(plainAddress(rinfo.address));
      if (!sender) return void stats.refusedUnknown++;
      // A datagram is one message; busybox and others end it with a newline.
      const body = msg.at(-1) === 0x0a ? msg.subarray(0, -1) : msg;
      if (!isSyslogMessage(body)) return void stats.malformed++;
      accept(sender, body);
    });
    udpPort = await new Promise<number>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(opts.udpPort, opts.host, () => resolve(sock.address().port));
    });
  }
  const timer = setInterval(() => {
    for (const id of [...pending.keys()]) void flushVps(id);
  }, flushMs);
  timer.unref();

  async function flush() {
    await Promise.all([...pending.keys()].map((id) => flushVps(id)));
    await Promise.all([...inFlight.values()]);
  }

  return {
    ports: { tls: tlsPort, tcp: tcpPort, udp: udpPort },
    stats,
    refresh,
    flush,
    async stop() {
      clearInterval(timer);
      unsubscribe();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              // Senders are asked to finish; whoever still holds on after 2 s is cut.
              for (const sock of sockets) sock.end();
              setTimeout(() => sockets.forEach((sock) => sock.destroy()), 2000).unref();
            }),
        ),
      );
      if (udp) await new Promise<void>((resolve) => udp!.close(() => resolve()));
      await flush();
      log.info({ syslog: stats }, 'syslog receiver stopped');
    },
  };
}
