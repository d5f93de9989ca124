// The stop ladder (src/agent/qemu/stop-ladder.ts) against a fake QMP, a fake guest agent and a
// fake QEMU process, in moved time: the test moves the clock, nothing sleeps for a rung's
// timeout, and every figure (when each rung gave up, which signal was sent) is exact. The same
// ladder against a real QEMU is test/agent/qemu-ladder.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type net from 'node:net';
import { ManualClock } from '../../src/domain/clock.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import type { HostCapabilities, StopResult, StopRung, VmEvent } from '../../src/agent/driver.ts';
import { defaultStopLadder } from '../../src/agent/driver.ts';
import { StateStore, vmPaths } from '../../src/agent/state/store.ts';
import type { VmRecord } from '../../src/agent/state/store.ts';
import type { QemuHost, QemuSystem, Vm } from '../../src/agent/qemu/context.ts';
import { newVm } from '../../src/agent/qemu/context.ts';
import { GuestAgentClient } from '../../src/agent/qemu/guest-agent.ts';
import { detach } from '../../src/agent/qemu/monitor.ts';
import { QmpClient } from '../../src/agent/qemu/qmp.ts';
import { stopByLadder } from '../../src/agent/qemu/stop-ladder.ts';
import { fakeSocketServer, qmpGreeting, reply } from '../helpers/fake-qmp.ts';
import { until } from '../helpers/until.ts';

/** Time that moves only when the test says so; sleeps resolve in order as it passes. */
class MovedTime {
  now = 0;
  #waiters: { at: number; seq: number; fire: () => void }[] = [];
  #seq = 0;
  sleep = (ms: number): Promise<void> => new Promise<void>((fire) => this.at(ms, fire));
  /** Runs `fire` once the time has moved `ms` further. */
  at(ms: number, fire: () => void): void {
    this.#waiters.push({ at: this.now + Math.max(0, ms), seq: this.#seq++, fire });
  }
  /** Moves time by `ms`, waking each sleeper in turn and letting it run before the next. */
  async advance(ms: number): Promise<void> {
    const target = this.now + ms;
    for (;;) {
      this.#waiters.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const w = this.#waiters[0];
      if (!w || w.at > target) break;
      this.#waiters.shift();
      this.now = w.at;
      w.fire();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    }
    this.now = target;
  }
}

/** A QEMU process that ends on the signals it is told to obey (or when the guest powers off). */
function fakeProcess(obeys: NodeJS.Signals[]) {
  const proc = { alive: true, signals: [] as NodeJS.Signals[] };
  const sys = (time: MovedTime): QemuSystem => ({
    nowMs: () => time.now,
    sleep: time.sleep,
    isAlive: async () => proc.alive,
    signal: (_pid, sig) => {
      if (!proc.alive) return false;
      proc.signals.push(sig);
      if (obeys.includes(sig)) proc.alive = false;
      return true;
    },
  });
  return { proc, sys };
}

type Powerdown = 'obey' | 'ignore' | 'hang';

/** A fake QMP: answers the handshake and `cont`; `system_powerdown` obeyed after 3 s, ignored or never answered. */
async function fakeQmp(time: MovedTime, proc: { alive: boolean }, powerdown: Powerdown) {
  const commands: string[] = [];
  const srv = await fakeSocketServer(qmpGreeting, (msg, sock) => {
    const cmd = String(msg.execute);
    commands.push(cmd);
    if (cmd === 'system_powerdown') {
      if (powerdown === 'hang') return;
      reply(sock, { return: {}, id: msg.id });
      if (powerdown === 'obey')
        time.at(3_000, () => {
          reply(sock, { event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } });
          proc.alive = false;
        });
      return;
    }
    reply(sock, { return: {}, id: msg.id });
  });
  return { srv, commands };
}

const caps: HostCapabilities = {
  accel: 'tcg',
  accelReason: 'test',
  qemuVersion: 'fake',
  liveVcpuResize: false,
  liveMemoryBalloon: true,
  liveMemoryResize: false,
  liveDiskResize: true,
  fsfreeze: true,
  guestExec: true,
  balloonStats: true,
};

/** A host context and one VM (a fake pid), its QMP connected to the fake. */
async function setup(opts: {
  obeys?: NodeJS.Signals[];
  powerdown?: Powerdown;
  state?: 'running' | 'paused';
  qmpTimeouts?: Record<string, number>;
}) {
  const time = new MovedTime();
  const { proc, sys } = fakeProcess(opts.obeys ?? ['SIGTERM', 'SIGKILL']);
  const qmpFake = await fakeQmp(time, proc, opts.powerdown ?? 'ignore');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'igladder-'));
  const events: VmEvent[] = [];
  const host: QemuHost = {
    config: { dataDir, imagesDir: dataDir, cpuRatio: 1, ramRatio: 1 },
    diskDir: path.join(dataDir, 'disks'),
    clock: new ManualClock('2026-03-01T10:00:00Z'),
    sys: sys(time),
    store: new StateStore(dataDir),
    vms: new Map(),
    listeners: new Set([(e: VmEvent) => void events.push(e)]),
    caps,
    placing: Promise.resolve(),
    closed: false,
  };
  const paths = vmPaths(dataDir, host.diskDir, 'vm-ladder');
  mkdirSync(paths.dir, { recursive: true });
  const rec: VmRecord = {
    version: 1,
    spec: {
      id: 'vm-ladder',
      image: 'none',
      vcpus: 1,
      memoryMiB: 256,
      diskGiB: 1,
      seed: { hostname: 'h', user: { name: 'u', sshAuthorizedKeys: [] } },
    },
    paths,
    state: opts.state ?? 'running',
    pid: 999_999_999, // never a real process: every signal goes to the fake
    startedAt: '2026-03-01T09:00:00Z',
    argv: null,
    accel: 'tcg',
    bootVcpus: 1,
    bootMemoryMiB: 256,
    growFilesystemPending: false,
    failure: null,
  };
  const vm = newVm(rec);
  host.vms.set(rec.spec.id, vm);
  vm.qmp = await QmpClient.connect(qmpFake.srv.path, { timeouts: opts.qmpTimeouts ?? {} });
  const cleanup = async () => {
    await detach(vm);
    await qmpFake.srv.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { time, proc, host, vm, events, qmp: qmpFake, cleanup };
}

/** Resolves once the ladder waits for QEMU to end (its current rung's request is sent). */
const waiting = (vm: Vm) =>
  until('the ladder to wait for the exit', async () => vm.exitWaiters.length > 0, 10_000);

const savedState = (vm: Vm) => (JSON.parse(readFileSync(vm.rec.paths.state, 'utf8')) as VmRecord).state;

test('stop ladder: ACPI powerdown honoured — no agent (rung skipped), the guest powers off 3 s after the request, no signal sent', async () => {
  const t = await setup({ powerdown: 'obey' });
  try {
    const p = stopByLadder(t.host, t.vm, [...defaultStopLadder], null);
    await until('system_powerdown', async () => t.qmp.commands.includes('system_powerdown'), 10_000);
    await waiting(t.vm);
    await t.time.advance(2_900);
    assert.equal(t.vm.rec.state, 'stopping');
    await t.time.advance(100);
    const r: StopResult = await p;
    assert.equal(r.endedBy, 'acpi');
    assert.deepEqual(
      r.rungs.map((g) => [g.kind, g.outcome, g.ended, g.elapsedMs]),
      [
        ['guest_agent', 'skipped', false, 0],
        ['acpi', 'sent', true, 3_000],
      ],
    );
    assert.equal(r.elapsedMs, 3_000);
    assert.deepEqual(t.proc.signals, []);
    assert.equal(t.vm.rec.state, 'stopped');
    assert.equal(savedState(t.vm), 'stopped');
    assert.deepEqual(
      t.events.map((e) => [e.type, e.reason]),
      [['stopped', 'stop ladder ended by acpi']],
    );
  } finally {
    await t.cleanup();
  }
});

test('stop ladder: the guest agent asked first; its powerdown honoured ends the ladder there', async () => {
  const t = await setup({});
  const asked: string[] = [];
  const ga = await fakeSocketServer(
    () => undefined,
    (msg, sock: net.Socket) => {
      const cmd = String(msg.execute);
      asked.push(cmd);
      if (cmd === 'guest-sync-delimited') {
        sock.write(Buffer.from([0xff]));
        reply(sock, { return: (msg.arguments as { id: number }).id });
      } else if (cmd === 'guest-ping') reply(sock, { return: {} });
      else if (cmd === 'guest-shutdown') {
        sock.destroy(); // like qemu-ga: the channel closes instead of an answer
        t.time.at(2_000, () => (t.proc.alive = false));
      }
    },
  );
  try {
    t.vm.ga = new GuestAgentClient(ga.path);
    const p = stopByLadder(t.host, t.vm, [...defaultStopLadder], null);
    await until('guest-shutdown', async () => asked.includes('guest-shutdown'), 10_000);
    await waiting(t.vm);
    await t.time.advance(2_000);
    const r = await p;
    assert.equal(r.endedBy, 'guest_agent');
    assert.deepEqual(
      r.rungs.map((g) => [g.kind, g.outcome, g.ended, g.elapsedMs]),
      [['guest_agent', 'sent', true, 2_000]],
    );
    assert.equal(t.qmp.commands.includes('system_powerdown'), false);
    assert.deepEqual(t.proc.signals, []);
  } finally {
    await t.cleanup();
    await ga.close();
  }
});

test('stop ladder: a guest ignoring ACPI gets its full 60 s, then SIGTERM ends QEMU', async () => {
  const t = await setup({ powerdown: 'ignore', obeys: ['SIGTERM'] });
  try {
    const ladder: StopRung[] = [
      { kind: 'acpi', timeoutMs: 60_000 },
      { kind: 'sigterm', timeoutMs: 10_000 },
      { kind: 'sigkill', timeoutMs: 5_000 },
    ];
    const p = stopByLadder(t.host, t.vm, ladder, null);
    await waiting(t.vm);
    await t.time.advance(59_900);
    assert.deepEqual(t.proc.signals, [], 'no signal before the ACPI rung timed out');
    await t.time.advance(100);
    assert.deepEqual(t.proc.signals, ['SIGTERM']);
    await t.time.advance(100);
    const r = await p;
    assert.equal(r.endedBy, 'sigterm');
    assert.deepEqual(
      r.rungs.map((g) => [g.kind, g.outcome, g.ended, g.elapsedMs]),
      [
        ['acpi', 'sent', false, 60_000],
        ['sigterm', 'sent', true, 100],
      ],
    );
    assert.equal(t.vm.rec.state, 'stopped');
  } finally {
    await t.cleanup();
  }
});

test('stop ladder: QEMU ignoring SIGTERM is killed with SIGKILL once the SIGTERM rung timed out', async () => {
  const t = await setup({ powerdown: 'ignore', obeys: ['SIGKILL'] });
  try {
    const p = stopByLadder(
      t.host,
      t.vm,
      [
        { kind: 'acpi', timeoutMs: 60_000 },
        { kind: 'sigterm', timeoutMs: 10_000 },
        { kind: 'sigkill', timeoutMs: 5_000 },
      ],
      'destroyed',
    );
    await waiting(t.vm);
    await t.time.advance(60_000 + 9_900);
    assert.deepEqual(t.proc.signals, ['SIGTERM']);
    await t.time.advance(100 + 100);
    const r = await p;
    assert.equal(r.endedBy, 'sigkill');
    assert.deepEqual(t.proc.signals, ['SIGTERM', 'SIGKILL']);
    assert.deepEqual(
      r.rungs.map((g) => [g.kind, g.ended, g.elapsedMs]),
      [
        ['acpi', false, 60_000],
        ['sigterm', false, 10_000],
        ['sigkill', true, 100],
      ],
    );
    assert.deepEqual(
      t.events.map((e) => e.reason),
      ['destroyed (sigkill)'],
    );
  } finally {
    await t.cleanup();
  }
});

test('stop ladder: a QEMU even SIGKILL does not end fails with the rungs after the last timeout, never hangs', async () => {
  const t = await setup({ powerdown: 'ignore', obeys: [] });
  try {
    const p = stopByLadder(
      t.host,
      t.vm,
      [
        { kind: 'acpi', timeoutMs: 1_000 },
        { kind: 'sigterm', timeoutMs: 1_000 },
        { kind: 'sigkill', timeoutMs: 1_000 },
      ],
      null,
    );
    const failed = assert.rejects(p, (e: DomainError) => {
      assert.equal(e.code, 'vm.stop_failed');
      const rungs = e.details?.rungs as { kind: string; ended: boolean; elapsedMs: number }[];
      assert.deepEqual(
        rungs.map((g) => [g.kind, g.ended, g.elapsedMs]),
        [
          ['acpi', false, 1_000],
          ['sigterm', false, 1_000],
          ['sigkill', false, 1_000],
        ],
      );
      return true;
    });
    await waiting(t.vm);
    await t.time.advance(3_000);
    await failed;
    assert.deepEqual(t.proc.signals, ['SIGTERM', 'SIGKILL']);
    assert.equal(t.vm.rec.state, 'failed');
    assert.match(t.vm.rec.failure ?? '', /stop ladder exhausted after 3000 ms/);
    assert.equal(savedState(t.vm), 'failed');
  } finally {
    await t.cleanup();
  }
});

test('stop ladder: a hung QMP fails the ACPI rung with its error and the next rung follows', async () => {
  // The QMP command's own timeout is the client's (a real 100 ms here); the rung's wait is moved time.
  const t = await setup({ powerdown: 'hang', obeys: ['SIGTERM'], qmpTimeouts: { system_powerdown: 100 } });
  try {
    const p = stopByLadder(
      t.host,
      t.vm,
      [
        { kind: 'acpi', timeoutMs: 60_000 },
        { kind: 'sigterm', timeoutMs: 10_000 },
      ],
      null,
    );
    await waiting(t.vm);
    await t.time.advance(60_000 + 100);
    const r = await p;
    assert.equal(r.endedBy, 'sigterm');
    const acpi = r.rungs[0];
    assert.equal(acpi?.outcome, 'failed');
    assert.match(acpi?.error ?? '', /system_powerdown/);
    assert.equal(acpi?.elapsedMs, 60_000);
  } finally {
    await t.cleanup();
  }
});

test('stop ladder: a paused VM is resumed first so it can hear the powerdown', async () => {
  const t = await setup({ powerdown: 'obey', state: 'paused' });
  try {
    const p = stopByLadder(t.host, t.vm, [{ kind: 'acpi', timeoutMs: 60_000 }], null);
    await waiting(t.vm);
    await t.time.advance(3_000);
    const r = await p;
    assert.equal(r.endedBy, 'acpi');
    assert.deepEqual(
      t.qmp.commands.filter((c) => c !== 'qmp_capabilities'),
      ['cont', 'system_powerdown'],
    );
  } finally {
    await t.cleanup();
  }
});
