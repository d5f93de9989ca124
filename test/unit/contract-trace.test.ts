// docs/contract.md is generated from scripts/contract-trace.ts, and its "tested by" column is found
// in the tests' names (scripts/gen-contract.ts). This keeps the trace honest: every file it names
// exists, every built or partly built clause has a test named for it, and the page is current.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { clauses, foundations } from '../../scripts/contract-trace.ts';
import {
  contractPath,
  findTestTitles,
  generateTrace,
  namesClause,
  pathsIn,
  root,
  testsOf,
  testTitles,
  withTrace,
} from '../../scripts/gen-contract.ts';

const titles = findTestTitles();

describe('finding the tests of a clause', () => {
  it('reads it/test/describe titles in any quotes, over several lines; skipped and todo tests prove nothing', () => {
    const source = [
      "describe('R9.9 a suite', () => {",
      '  it("R9.9: double quotes", () => {});',
      '  test(`R9.9 template ${"literal"}`, () => {});',
      '  it(',
      "    'R9.9 on the next line',",
      '    () => {},',
      '  );',
      "  it.only('R9.9 only', () => {});",
      "  it.skip('R9.9 skipped', () => {});",
      "  it.todo('R9.9 to do');",
      "  const submit = ('R9.9 not a test');",
      '});',
    ].join('\n');
    assert.deepEqual(testTitles(source), [
      'R9.9 a suite',
      'R9.9: double quotes',
      'R9.9 template ${"literal"}',
      'R9.9 on the next line',
      'R9.9 only',
    ]);
  });
  // Made-up clause numbers, so that this file is listed under no real clause.
  it('matches the clause ID exactly: R98.1 is not R98.12, R9 is not R98, R98.1–R98.4 names only those two', () => {
    assert.equal(namesClause('R98.1: mail', 'R98.1'), true);
    assert.equal(namesClause('(R98.1, R98.2)', 'R98.2'), true);
    assert.equal(namesClause('R98.12 plan change', 'R98.1'), false);
    assert.equal(namesClause('R98 availability', 'R9'), false);
    assert.equal(namesClause('R98.2', 'R98'), false);
    assert.equal(namesClause('QR98.1', 'R98.1'), false);
    assert.equal(namesClause('R98.1–R98.4', 'R98.1'), true);
    assert.equal(namesClause('R98.1–R98.4', 'R98.4'), true);
    assert.equal(namesClause('R98.1–R98.4', 'R98.2'), false);
  });
  it('lists the files whose titles name the clause, with how many names', () => {
    const found = testsOf('R9.9', [
      { file: 'test/a.test.ts', title: 'R9.9 one' },
      { file: 'test/a.test.ts', title: 'two (R9.9)' },
      { file: 'test/b.test.ts', title: 'R9.90 is another clause' },
    ]);
    assert.deepEqual(found, [{ file: 'test/a.test.ts', count: 2 }]);
  });
});

describe('the trace of the contract (scripts/contract-trace.ts)', () => {
  it('has each clause once, in the contract’s order', () => {
    const ids = clauses.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, 'a clause is listed twice');
    for (const id of ids) assert.match(id, /^R\d+(\.\d+)?$/);
    const key = (id: string) => id.slice(1).split('.').map(Number);
    const sorted = [...ids].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      return x[0]! - y[0]! || (x[1] ?? 0) - (y[1] ?? 0);
    });
    assert.deepEqual(ids, sorted);
  });

  it('names only files that exist (enforcing files, and every path in the notes)', () => {
    const named = [
      ...clauses.flatMap((c) => [...c.sources, ...pathsIn(`${c.note} ${c.missing ?? ''}`)]),
      ...foundations.flatMap((f) => [...f.sources, ...f.tests, ...pathsIn(f.note ?? '')]),
    ];
    const missing = [...new Set(named)].filter((f) => !existsSync(path.join(root, f)));
    assert.deepEqual(
      missing,
      [],
      `scripts/contract-trace.ts names files that do not exist (moved? update the entry, then node scripts/gen-contract.ts)`,
    );
  });

  it('a built or partly built clause names its enforcing files and has a test whose name carries its ID', () => {
    const untested = clauses
      .filter((c) => c.status !== 'not yet')
      .filter((c) => c.sources.length === 0 || testsOf(c.id, titles).length === 0)
      .map((c) => `${c.id} (${c.sources.length ? 'no test names it' : 'no enforcing file'})`);
    assert.deepEqual(untested, []);
  });

  it('a partly built clause says what is missing', () => {
    assert.deepEqual(
      clauses.filter((c) => c.status === 'partly' && !c.missing).map((c) => c.id),
      [],
    );
  });

  it('docs/contract.md is the generated text (regenerate: node scripts/gen-contract.ts)', () => {
    const text = readFileSync(contractPath, 'utf8');
    assert.equal(text, withTrace(text, generateTrace(titles)));
  });
});
