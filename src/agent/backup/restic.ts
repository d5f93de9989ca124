// restic, the backup program (Debian's package), run by argv with the repository and its key in
// the environment only (RESTIC_REPOSITORY, RESTIC_PASSWORD): never on a command line another
// user could read in /proc, never logged (R3.6). Error messages keep restic's own words with
// the repository's credentials masked.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { invalidData, unexpectedState } from '../../domain/errors.ts';
import type { BackupRepoAccess } from '../driver.ts';
import type { BackupRepos, RepoSnapshot } from '../host-agent.ts';
import { CommandError, run, runStreaming } from '../exec/run.ts';

const RESTIC = 'restic';
/** The name a disk has inside its snapshots (restic `--stdin-filename`). */
export const DISK_FILENAME = 'disk.raw';

function checkRepo(repo: BackupRepoAccess): void {
  if (!repo || typeof repo.repository !== 'string' || !/^(rest:https?:\/\/|sftp:)/.test(repo.repository))
    throw invalidData('backup.repository_invalid', 'A backup repository is a rest:http(s)://… or sftp:… URL');
  if (typeof repo.password !== 'string' || repo.password.length < 16)
    throw invalidData('backup.key_invalid', 'A repository key has at least 16 characters');
}

/** The repository URL with its password masked, for messages. */
export function maskRepository(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

function env(repo: BackupRepoAccess): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    RESTIC_REPOSITORY: repo.repository,
    RESTIC_PASSWORD: repo.password,
  };
}

/** A restic failure as a DomainError, with the key and credentials nowhere in it. */
function failure(repo: BackupRepoAccess, what: string, e: unknown): Error {
  if (!(e instanceof CommandError)) return e as Error;
  let msg = e.stderr.trim().split('\n').slice(-3).join(' | ');
  msg = msg.split(repo.password).join('***').split(repo.repository).join(maskRepository(repo.repository));
  if (/wrong password|no key found/i.test(msg))
    return invalidData('backup.key_refused', `The repository refuses the key (${what}): ${msg}`);
  return unexpectedState('backup.restic_failed', `restic ${what} failed: ${msg}`, {
    exitCode: e.exitCode,
    timedOut: e.timedOut,
  });
}

async function restic(
  repo: BackupRepoAccess,
  what: string,
  args: string[],
  timeoutMs = 10 * 60_000,
): Promise<string> {
  checkRepo(repo);
  try {
    return (await run([RESTIC, '--no-cache', ...args], { env: env(repo), timeoutMs })).stdout;
  } catch (e) {
    throw failure(repo, what, e);
  }
}

export interface StreamedBackup {
  snapshotId: string;
  bytesRead: number;
  bytesAdded: number;
  sha256: string;
}

/**
 * `restic backup --stdin` of a stream (the frozen disk), its sha256 computed on the way. A disk
 * image is read whole, holes included (they cost reading zeros, not storage: restic's chunks of
 * zeros deduplicate).
 */
export async function backupStream(
  repo: BackupRepoAccess,
  input: Readable,
  opts: { host: string; tags?: string[] },
): Promise<StreamedBackup> {
  checkRepo(repo);
  const hash = createHash('sha256');
  let bytesRead = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytesRead += chunk.length;
      cb(null, chunk);
    },
  });
  input.on('error', (e) => tee.destroy(e));
  input.pipe(tee);
  const args = [RESTIC, '--no-cache', 'backup', '--json', '--stdin', '--stdin-filename', DISK_FILENAME];
  args.push('--host', opts.host);
  for (const t of opts.tags ?? []) args.push('--tag', t);
  let out: string;
  try {
    out = (await runStreaming(args, { env: env(repo), stdin: tee })).stdout;
  } catch (e) {
    throw failure(repo, 'backup', e);
  }
  const summary = out
    .split('\n')
    .filter((l) => l.includes('"summary"'))
    .map((l) => JSON.parse(l) as { snapshot_id: string; data_added: number })
    .pop();
  if (!summary) throw unexpectedState('backup.restic_failed', 'restic backup printed no summary');
  const full = await resolveSnapshot(repo, summary.snapshot_id);
  return { snapshotId: full, bytesRead, bytesAdded: summary.data_added, sha256: hash.digest('hex') };
}

async function resolveSnapshot(repo: BackupRepoAccess, shortId: string): Promise<string> {
  const list = await listSnapshots(repo);
  const s = list.find((x) => x.id.startsWith(shortId));
  if (!s) throw unexpectedState('backup.snapshot_missing', `Snapshot ${shortId} is not in the repository`);
  return s.id;
}

/** Writes the disk of `snapshotId` to `out` (restic dump, every blob checked against its hash). */
export async function dumpDisk(
  repo: BackupRepoAccess,
  snapshotId: string,
  out: NodeJS.WritableStream,
): Promise<void> {
  checkRepo(repo);
  if (!/^[0-9a-f]{8,64}$/.test(snapshotId))
    throw invalidData('backup.snapshot_invalid', 'A snapshot id is 8 to 64 hex digits');
  try {
    await runStreaming([RESTIC, '--no-cache', 'dump', snapshotId, `/${DISK_FILENAME}`], {
      env: env(repo),
      stdout: out,
    });
  } catch (e) {
    throw failure(repo, 'dump', e);
  }
}

export async function listSnapshots(repo: BackupRepoAccess): Promise<RepoSnapshot[]> {
  const out = await restic(repo, 'snapshots', ['snapshots', '--json']);
  const list = JSON.parse(out || '[]') as { id: string; time: string; tags?: string[] }[] | null;
  return (list ?? []).map((s) => ({ id: s.id, time: new Date(s.time).toISOString(), tags: s.tags ?? [] }));
}

/** The REST endpoint behind a `rest:` repository, with its basic credentials apart (fetch refuses them in URLs). */
function restEndpoint(repo: BackupRepoAccess): { base: string; headers: Record<string, string> } {
  const u = new URL(repo.repository.slice('rest:'.length));
  const headers: Record<string, string> = { accept: 'application/vnd.x.restic.rest.v2' };
  if (u.username)
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return { base: u.toString().replace(/\/?$/, '/'), headers };
}

/** Deletes every object of a REST repository through the protocol (the full-access endpoint). */
async function removeRest(repo: BackupRepoAccess): Promise<{ deleted: number }> {
  const { base, headers } = restEndpoint(repo);
  let deleted = 0;
  const del = async (p: string) => {
    const r = await fetch(base + p, { method: 'DELETE', headers });
    if (r.status === 404) return;
    if (!r.ok)
      throw unexpectedState(
        'backup.remove_failed',
        `DELETE ${p} answered ${r.status} (an append-only endpoint?)`,
      );
    deleted++;
  };
  // Keys last but one and config last: a half-removed repository still opens and can be removed again.
  for (const type of ['locks', 'snapshots', 'index', 'data', 'keys']) {
    const r = await fetch(`${base}${type}/`, { headers });
    if (r.status === 404) continue;
    if (!r.ok) throw unexpectedState('backup.remove_failed', `listing ${type} answered ${r.status}`);
    const items = (await r.json()) as { name: string }[] | null;
    for (const it of items ?? []) await del(`${type}/${it.name}`);
  }
  await del('config');
  return { deleted };
}

/** The maintenance operations (BackupRepos) over restic and, for deletion, its REST protocol. */
export function resticRepos(): BackupRepos {
  return {
    async init(repo) {
      await restic(repo, 'init', ['init']);
    },
    snapshots: listSnapshots,
    async forget(repo, ids, opts = {}) {
      if (ids.some((id) => !/^[0-9a-f]{8,64}$/.test(id)))
        throw invalidData('backup.snapshot_invalid', 'A snapshot id is 8 to 64 hex digits');
      if (ids.length) await restic(repo, 'forget', ['forget', ...ids]);
      if (opts.prune ?? true) await restic(repo, 'prune', ['prune'], 60 * 60_000);
    },
    async check(repo, subset) {
      if (!/^(\d{1,3}%|\d+\/\d+)$/.test(subset))
        throw invalidData('backup.check_subset', 'A check subset is n/m or a percentage');
      try {
        const out = await restic(repo, 'check', ['check', `--read-data-subset=${subset}`], 60 * 60_000);
        return { ok: true, output: out.trim().split('\n').slice(-3).join('\n') };
      } catch (e) {
        return { ok: false, output: (e as Error).message };
      }
    },
    async remove(repo) {
      checkRepo(repo);
      if (!repo.repository.startsWith('rest:'))
        throw invalidData(
          'backup.remove_unsupported',
          'Only rest: repositories can be removed by the platform yet',
        );
      return removeRest(repo);
    },
  };
}
