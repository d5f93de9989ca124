// The long-lived nft session (R9.1, R9.3: rules in force fast on a busy host): batches are
// atomic and ordered, an error names nft's message and leaves the session usable, a closed
// session restarts on the next batch. Inside a namespace of its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { run } from '../../src/agent/exec/run.ts';
import { applyNft, closeNftSession, listTable } from '../../src/agent/net/host.ts';
import type { HostNetConfig } from '../../src/agent/net/types.ts';

describe('nft session (namespace)', () => {
  const ns = `igs${randomBytes(3).toString('hex')}`;
  const host: HostNetConfig = {
    netns: ns,
    table: 'sesstest',
    bridge: 'br0',
    uplinkBitsPerSecond: 1e9,
    management: [],
  };
  const table = { family: 'bridge', name: 'sesstest' };
  const counter = (name: string) => ({ family: 'bridge', table: 'sesstest', name });
  const counters = async () =>
    ((await listTable(host)) ?? [])
      .filter((x) => x.counter)
      .map((x) => (x.counter as { name: string }).name)
      .sort();

  before(async () => {
    await run(['ip', 'netns', 'add', ns]);
  });
  after(async () => {
    closeNftSession(host);
    await run(['ip', 'netns', 'del', ns], { okCodes: [0, 1] });
  });

  it('R9.3: batches apply in order; a failing batch rejects with nft’s error and changes nothing', async () => {
    await Promise.all([
      applyNft(host, { nftables: [{ add: { table } }, { add: { counter: counter('a') } }] }),
      applyNft(host, { nftables: [{ add: { counter: counter('b') } }] }),
    ]);
    assert.deepEqual(await counters(), ['a', 'b']);
    await assert.rejects(
      applyNft(host, {
        nftables: [
          { add: { counter: counter('c') } },
          {
            add: { rule: { family: 'bridge', table: 'sesstest', chain: 'nochain', expr: [{ drop: null }] } },
          },
        ],
      }),
      /Could not process rule: No such file or directory/,
    );
    assert.deepEqual(await counters(), ['a', 'b'], 'the failed batch left nothing behind (atomic)');
    await applyNft(host, { nftables: [{ add: { counter: counter('d') } }] });
    assert.deepEqual(await counters(), ['a', 'b', 'd'], 'the session still works after an error');
  });

  it('R9.3: a closed session is restarted by the next batch', async () => {
    closeNftSession(host);
    await applyNft(host, { nftables: [{ delete: { counter: counter('d') } }] });
    assert.deepEqual(await counters(), ['a', 'b']);
  });
});
