// lib/ is grouped by stage, in the order a request flows through them; a stage imports only itself
// and earlier stages, and each stage's main file says what it does and what it may import.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { PROJECT_DIR } from './helpers/spec-fixtures.js';

const STAGES = ['core', 'spec', 'endpoint', 'request', 'guard', 'http', 'custody', 'mcp', 'cli'] as const;
const MAIN_FILE: Record<(typeof STAGES)[number], string> = {
  core: 'io.ts',
  spec: 'select.ts',
  endpoint: 'match.ts',
  request: 'args.ts',
  guard: 'policy.ts',
  http: 'execute.ts',
  custody: 'broker.ts',
  mcp: 'server.ts',
  cli: 'command.ts',
};
const LIB = join(PROJECT_DIR, 'lib');

describe('lib/ layout', () => {
  it('has the stages and nothing else but the shell file', () => {
    const entries = readdirSync(LIB).sort();
    assert.deepEqual(entries, [...STAGES, 'shell'].sort());
  });

  it('no stage imports a later one', () => {
    const problems: string[] = [];
    for (const [rank, stage] of STAGES.entries()) {
      for (const file of readdirSync(join(LIB, stage)).filter((name) => name.endsWith('.ts'))) {
        const text = readFileSync(join(LIB, stage, file), 'utf8');
        for (const match of text.matchAll(/(?:from\s+|import\()\s*'\.\.\/([a-z]+)\//g)) {
          const target = match[1] as (typeof STAGES)[number];
          const targetRank = STAGES.indexOf(target);
          if (targetRank < 0 || targetRank > rank) problems.push(`lib/${stage}/${file} imports lib/${target}/`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("each stage's main file opens with what the stage does and what it may import", () => {
    for (const [rank, stage] of STAGES.entries()) {
      const text = readFileSync(join(LIB, stage, MAIN_FILE[stage]), 'utf8');
      const opening = text.split('\n').filter((line) => line.startsWith('//')).map((line) => line.replace(/^\/\/\s?/, '')).join(' ');
      assert.match(opening, new RegExp(`Stage ${stage}`), `lib/${stage}/${MAIN_FILE[stage]}`);
      const earlier = STAGES.slice(0, rank);
      assert.match(opening, rank === 0 ? /imports nothing of lib\/ outside core/ : new RegExp(`may import ${earlier.join(', ')}`), `lib/${stage}/${MAIN_FILE[stage]} names what it may import`);
    }
  });

  it('no file of lib/ is over 400 lines, and no function (closures included) over 100', () => {
    const problems: string[] = [];
    for (const stage of STAGES) {
      for (const file of readdirSync(join(LIB, stage)).filter((name) => name.endsWith('.ts'))) {
        const path = join(LIB, stage, file);
        const text = readFileSync(path, 'utf8');
        const lines = text.split('\n').length;
        if (lines > 400) problems.push(`lib/${stage}/${file}: ${lines} lines`);
        const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
        const visit = (node: ts.Node): void => {
          if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
            const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
            const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
            if (end - start + 1 > 100) problems.push(`lib/${stage}/${file}:${start + 1}: a function of ${end - start + 1} lines`);
          }
          ts.forEachChild(node, visit);
        };
        visit(source);
      }
    }
    assert.deepEqual(problems, []);
  });
});
