// The serial console recorder against a fake console socket: the log rotates at its cap
// (console.log → console.log.1), neither file ever exceeds it, the newest output is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConsoleRecorder } from '../../src/agent/qemu/console.ts';

/** A console socket that sends `chunks` to the first client, then closes (QEMU going away). */
async function fakeConsole(chunks: (string | Buffer)[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'igcon-'));
  const socket = path.join(dir, 'console.sock');
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    for (const c of chunks) sock.write(c);
    sock.end();
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    dir,
    socket,
    file: path.join(dir, 'console.log'),
    async close() {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const line = (i: number) => `[${String(i).padStart(4, '0')}] ${'x'.repeat(90)}\n`; // 98 bytes

test('console log: rotates at its cap, each file within the cap, the newest output kept', async () => {
  const all = Array.from({ length: 60 }, (_, i) => line(i)).join(''); // 5880 bytes
  const con = await fakeConsole([all.slice(0, 1234), all.slice(1234, 1300), all.slice(1300)]);
  let rotations = 0;
  try {
    const cap = 1_000;
    const r = ConsoleRecorder.start({
      socket: con.socket,
      file: con.file,
      maxBytes: cap,
      onRotate: () => rotations++,
    });
    await r.ended; // the fake closed after sending everything
    // Files are cut at the same places in the stream whatever the chunks: every 1000 bytes.
    assert.equal(readFileSync(con.file, 'utf8'), all.slice(5_000), 'console.log: the newest bytes');
    assert.equal(
      readFileSync(`${con.file}.1`, 'utf8'),
      all.slice(4_000, 5_000),
      'console.log.1: the ones before',
    );
    assert.ok(rotations >= 2);
  } finally {
    await con.close();
  }
});

test('console log: a log already past its cap (older QEMU) is rotated before the first write', async () => {
  const con = await fakeConsole([line(0)]);
  try {
    const old = 'an old log bigger than the cap\n'.repeat(100);
    writeFileSync(con.file, old);
    const r = ConsoleRecorder.start({ socket: con.socket, file: con.file, maxBytes: 500 });
    await r.ended;
    assert.equal(readFileSync(con.file, 'utf8'), line(0));
    assert.equal(readFileSync(`${con.file}.1`, 'utf8'), old);
  } finally {
    await con.close();
  }
});

test('console log: no console socket (a QEMU from before) ends the recorder quietly', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'igcon-'));
  try {
    const r = ConsoleRecorder.start({
      socket: path.join(dir, 'none.sock'),
      file: path.join(dir, 'console.log'),
      maxBytes: 1_000,
    });
    await r.ended;
    assert.equal(existsSync(path.join(dir, 'console.log')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
