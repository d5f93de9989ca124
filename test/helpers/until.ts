import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `f` every 250 ms until it returns a truthy value, which it returns; fails after `ms`. */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined | null | false>,
  ms = 240_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
