// A fake QMP or guest-agent endpoint: a unix socket server reading JSON lines (the guest
// agent's 0xFF delimiter stripped) and handing each message to the test's handler.
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type FakeHandler = (msg: Record<string, unknown>, sock: net.Socket) => void;

export interface FakeSocketServer {
  path: string;
  close(): Promise<void>;
}

export async function fakeSocketServer(
  onConnect: (sock: net.Socket) => void,
  handler: FakeHandler,
): Promise<FakeSocketServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'igqmp-'));
  const sockPath = path.join(dir, 's');
  const conns = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns.add(sock);
    onConnect(sock);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/^\xff/, '');
        buf = buf.slice(nl + 1);
        if (line.trim()) handler(JSON.parse(line) as Record<string, unknown>, sock);
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(sockPath, r));
  return {
    path: sockPath,
    async close() {
      for (const c of conns) c.destroy();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** QMP's greeting, sent on connect. */
export const qmpGreeting = (sock: net.Socket) =>
  sock.write(JSON.stringify({ QMP: { version: {}, capabilities: [] } }) + '\n');

/** Writes one JSON line. */
export const reply = (sock: net.Socket, msg: unknown) => sock.write(JSON.stringify(msg) + '\n');
