// Repository rules that no compiler checks (like Firecracker's style tests): what the docs and
// comments name exists, migrations have one number each, modules stay small, comments cite
// contract clauses (R3.6) rather than issue numbers, and tests read only settings the
// configuration defines (test-only variables never use the INFOGERE_ prefix). The layers are
// test/unit/layering.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { describeSettings } from '../../src/control/config.ts';
import { migrations } from '../../src/control/db/migrate.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

/** The repository's files as git knows them (tracked, or new and not ignored), that still exist. */
const files: string[] = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f && existsSync(path.join(root, f)));
const under = (dirs: string[], re: RegExp): string[] =>
  files.filter((f) => dirs.some((d) => f.startsWith(d)) && re.test(f));

const CODE = /\.(ts|tsx|js)$/;
const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;

interface Comment {
  line: number;
  text: string;
}

const commentCache = new Map<string, Comment[]>();
/** Every comment of a TypeScript/JavaScript file, found through the compiler's parser: the
 * trivia before each node's start and after each node's end holds every comment but those
 * alone inside a JSX `{}`. */
function commentsOf(file: string): Comment[] {
  const cached = commentCache.get(file);
  if (cached) return cached;
  const text = read(file);
  const kind = file.endsWith('x')
    ? ts.ScriptKind.TSX
    : file.endsWith('.js')
      ? ts.ScriptKind.JS
      : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const seen = new Map<number, Comment>();
  const add = (at: number): void => {
    for (const r of ts.getLeadingCommentRanges(text, at) ?? [])
      if (!seen.has(r.pos)) seen.set(r.pos, { line: lineOf(text, r.pos), text: text.slice(r.pos, r.end) });
  };
  const visit = (node: ts.Node): void => {
    add(node.pos);
    add(node.end);
    ts.forEachChild(node, visit);
  };
  add(0);
  visit(sf);
  const comments = [...seen.values()].sort((a, b) => a.line - b.line);
  commentCache.set(file, comments);
  return comments;
}

/** Comment lines of a shell script or Makefile (`# …`, not the shebang). */
function hashCommentsOf(file: string): Comment[] {
  return read(file)
    .split('\n')
    .map((text, i) => ({ line: i + 1, text }))
    .filter((c) => /^\s*#(?!!)/.test(c.text));
}

// A path from the repository's root: a top folder, then names, ending in a file with an
// extension or in a folder's slash. Not a glob (`test/**/*.test.ts`), a placeholder
// (`<dataDir>/…`) or the tail of a longer path (`web/src/…` is not `src/…`).
const ROOT_PATH =
  /(?<![\w./@~-])((?:src|test|scripts|bench|docs|web)\/(?:[\w@-][\w.@-]*\/)*(?:[\w@-][\w.@-]*\.(?:ts|tsx|js|json|md|sh|txt|css|html)|))(?![\w*{<$/-])/g;
// A relative link in Markdown: [text](target), not a URL or an anchor in the same page.
const MD_LINK = /\]\(([^)\s#]+)(?:#[^)\s]*)?\)/g;

interface Named {
  target: string;
  where: string;
}

function namedPaths(): Named[] {
  const named: Named[] = [];
  const scan = (file: string, line: number, text: string): void => {
    for (const m of text.matchAll(ROOT_PATH)) named.push({ target: m[1]!, where: `${file}:${line}` });
  };
  const markdown = ['README.md', ...under(['docs/'], /\.md$/)];
  for (const file of markdown) {
    const lines = read(file).split('\n');
    lines.forEach((text, i) => {
      scan(file, i + 1, text);
      for (const m of text.matchAll(MD_LINK)) {
        const target = m[1]!;
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
        named.push({
          target: path.relative(root, path.resolve(root, path.dirname(file), target)),
          where: `${file}:${i + 1}`,
        });
      }
    });
  }
  for (const file of under(['src/', 'test/', 'scripts/', 'bench/', 'web/src/'], CODE))
    for (const c of commentsOf(file)) c.text.split('\n').forEach((t, i) => scan(file, c.line + i, t));
  for (const file of ['Makefile', ...under(['scripts/'], /\.sh$/)])
    for (const c of hashCommentsOf(file)) scan(file, c.line, c.text);
  return named;
}

// Made by the build, not in git.
const BUILT = ['web/dist/', 'var/'];

describe('style: what the docs and comments name exists', () => {
  it('every file path named in README.md, docs/*.md and the comments of src/, test/, scripts/, bench/ and web/src/ exists', () => {
    const named = namedPaths();
    assert.ok(
      named.length > 100,
      `the scan found only ${named.length} paths: is it still reading the files?`,
    );
    const missing = named
      .filter(({ target, where }) => {
        if (existsSync(path.join(root, target)) || BUILT.some((b) => target.startsWith(b))) return false;
        // The panel's files and docs/panel.md may name its files from web/ (`src/…`).
        const fromWeb = where.startsWith('web/') || where.startsWith('docs/panel.md:');
        return !(fromWeb && existsSync(path.join(root, 'web', target)));
      })
      .map(({ target, where }) => `${where} names ${target}`);
    assert.deepEqual(missing, []);
  });
});

describe('style: migrations', () => {
  it('each migration number is used once, in the files and in the list migrate.ts runs', () => {
    const onDisk = under(['src/control/db/migrations/'], /\.ts$/).map((f) => path.basename(f, '.ts'));
    const listed = Object.keys(migrations);
    assert.deepEqual([...listed].sort(), [...onDisk].sort(), 'migrate.ts lists exactly the migration files');
    const byNumber = new Map<string, string[]>();
    for (const name of onDisk) {
      const n = /^(\d{4})_[a-z0-9_]+$/.exec(name)?.[1];
      assert.ok(n, `${name}: a migration is named NNNN_words`);
      byNumber.set(n, [...(byNumber.get(n) ?? []), name]);
    }
    const shared = [...byNumber.values()]
      .filter((names) => names.length > 1)
      .map((names) => names.join(' and '));
    assert.deepEqual(shared, [], 'migrations sharing a number');
  });
});

// Files still over the limit while another change splits them. The test below fails when a
// listed file is no longer over it: remove it from the list then, so the list only shrinks.
const TEMPORARY_LONG: string[] = [];
const MAX_LINES = 600;

describe('style: small modules', () => {
  const lines = (file: string): number => read(file).split('\n').length - 1;
  it(`no file in src/ is over ${MAX_LINES} lines`, () => {
    const long = under(['src/'], CODE)
      .filter((f) => !TEMPORARY_LONG.includes(f) && lines(f) > MAX_LINES)
      .map((f) => `${f}: ${lines(f)} lines`);
    assert.deepEqual(long, []);
  });
  it('every TEMPORARY_LONG file is still over the limit: remove it from the list once it is split', () => {
    const stale = TEMPORARY_LONG.filter((f) => !existsSync(path.join(root, f)) || lines(f) <= MAX_LINES);
    assert.deepEqual(stale, []);
  });
});

// "issue 6", "issue #6", "issues 4 and 5", "(issue 9 item 2)". Issues are closed and renumbered;
// a comment cites the contract clause it enforces (R3.6) or says why in words.
const ISSUE = /\bissues?\s*#?\d+/i;
const issueComments = (file: string): string[] =>
  commentsOf(file).flatMap((c) =>
    c.text.split('\n').flatMap((t, i) => (ISSUE.test(t) ? [`${file}:${c.line + i}: ${t.trim()}`] : [])),
  );

describe('style: comments cite clauses, not issue numbers', () => {
  it('no comment in src/ or web/src/ cites an issue number', () => {
    const found = under(['src/', 'web/src/'], CODE).flatMap(issueComments);
    assert.deepEqual(found, []);
  });
  it('the check sees an issue number in a comment and not a clause', () => {
    assert.ok(ISSUE.test('// Power actions (issue 3 item 7)'));
    assert.ok(ISSUE.test('/* see issues #12 */'));
    assert.ok(!ISSUE.test('// Power actions (R3.12): one in flight per VPS'));
    assert.ok(!ISSUE.test('// the issued invoice 2 is voided'));
  });
});

describe('style: settings', () => {
  const known = new Set([...describeSettings().map((s) => s.env), 'INFOGERE_CONFIG_FILE']);
  const NAME = /\bINFOGERE_[A-Z0-9][A-Z0-9_]*/g;
  it('tests, benchmarks and scripts read no INFOGERE_* variable the configuration does not define', () => {
    // A test-only INFOGERE_ variable left in the environment makes every platform a test starts
    // refuse to start ("unknown setting"); such variables take another prefix (SCREENSHOT_DIR).
    const READ = /process\.env(?:\.|\[\s*['"`])(INFOGERE_[A-Z0-9_]+)/g;
    const unknown: string[] = [];
    for (const file of under(['test/', 'bench/', 'scripts/'], CODE)) {
      const text = read(file);
      for (const m of text.matchAll(READ))
        if (!known.has(m[1]!)) unknown.push(`${file}:${lineOf(text, m.index)} reads ${m[1]}`);
    }
    assert.deepEqual(unknown, []);
  });
  it('README.md and docs/*.md name no INFOGERE_* variable the configuration does not define', () => {
    const unknown: string[] = [];
    for (const file of ['README.md', ...under(['docs/'], /\.md$/)]) {
      const text = read(file);
      for (const m of text.matchAll(NAME))
        if (!known.has(m[0])) unknown.push(`${file}:${lineOf(text, m.index)} names ${m[0]}`);
    }
    assert.deepEqual(unknown, []);
  });
});
