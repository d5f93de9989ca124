// The platform in a child process for provisioning crash tests: the parent kills it with
// SIGKILL at chosen moments and starts it again. Commands on stdin, answers on stdout.
//   setup            → datacenter TST1, pool 192.0.2.0/24, local host, a client; prints SETUP <accountId> <dcId>
//   request <acc> <dc> <hostname> → requests a VPS; prints VPS <id>
import { startPlatform } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { POOL } from './vps-lab.ts';

const platform = await startPlatform({});
const s = platform.services;
process.stdout.write(`READY ${platform.url}\n`);
let buffer = '';
process.stdin.on('data', (chunk) => {
  buffer += chunk.toString();
  let nl: number;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, nl).trim();
    buffer = buffer.slice(nl + 1);
    void handle(line).catch((e: unknown) =>
      process.stdout.write(`ERROR ${e instanceof Error ? e.message : String(e)}\n`),
    );
  }
});

async function handle(line: string): Promise<void> {
  const [cmd, ...args] = line.split(' ');
  if (cmd === 'setup') {
    const dc = await s.infra.createDatacenter(
      { code: 'TST1', name: 'Test', city: 'Paris', country: 'FR', region: 'FR-IDF' },
      SYSTEM_ACTOR,
    );
    await s.infra.createPool({ datacenterId: dc.id, cidr: POOL.cidr, gateway: POOL.gateway }, SYSTEM_ACTOR);
    await s.infra.registerHost(
      { name: 'local', datacenterId: dc.id, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
      SYSTEM_ACTOR,
    );
    const c = await s.identity.createClientAccount(
      {
        accountName: 'Crash',
        email: 'crash@example.test',
        name: 'Crash Test',
        password: 'a long enough password',
      },
      SYSTEM_ACTOR,
    );
    process.stdout.write(`SETUP ${c.account.id} ${dc.id}\n`);
  } else if (cmd === 'request') {
    const [accountId, datacenterId, hostname] = args as [string, string, string];
    const v = await platform.db.transaction().execute((tx) =>
      s.infra.requestVps(tx, {
        accountId,
        datacenterId,
        hostname,
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: new Date(),
        clientUsername: 'crash',
      }),
    );
    process.stdout.write(`VPS ${v.id}\n`);
  }
}
