import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The developers' guide: never reach into a library's private fields. sonic-boom (under pino-roll)
 * keeps its state in `_`-prefixed fields (`_len`, `_writing`, `_bufs`, `_writingBuf`, …); the
 * destination uses its public API and its own bookkeeping instead (write-backlog.ts). This reads
 * every source file of the package and fails on any member access to a `_`-prefixed name, dotted
 * or bracketed. (ESLint's no-restricted-syntax says the same in the editor: eslint.config.js.)
 */

const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Comments, string and regex literals blanked out (same length), so only code is searched. */
function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`|(?<=(?:[=(,:;!&|?{}[+\-*%<>~^]|\breturn)\s*)\/(?![*/])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n[])+\/[dgimsuvy]*/g, (m) =>
    m.startsWith("'") || m.startsWith('"') || m.startsWith('`') ? m[0] + ' '.repeat(m.length - 2) + m[0] : ' '.repeat(m.length),
  );
}

/** Dotted (`x._len`, `x?._len`) and bracketed (`x['_len']`) member accesses to `_`-prefixed names. */
function privateAccesses(text: string): string[] {
  const code = codeOnly(text);
  const found: string[] = [];
  for (const m of code.matchAll(/\??\.\s*(_[A-Za-z0-9_$]*)/g)) found.push(m[1] ?? '');
  for (const m of text.matchAll(/\[\s*(['"`])(_[A-Za-z0-9_$]*)\1\s*\]/g)) found.push(m[2] ?? '');
  return found;
}

test('the scan itself finds private member accesses, dotted or bracketed, and ignores comments and strings', () => {
  assert.deepEqual(privateAccesses('const n = (stream as any)._len; s?._writing;'), ['_len', '_writing']);
  assert.deepEqual(privateAccesses("const b = stream['_bufs'];"), ['_bufs']);
  assert.deepEqual(privateAccesses("// stream._len\nconst re = /a._b/; const t = 'x._y'; const u = `${v}._w`;"), []);
  assert.deepEqual(privateAccesses('const r = a / b; const n = s._len / 2;'), ['_len'], 'a division is not a regex literal');
});

test('no source file of the logger reads a `_`-prefixed (private) field of anything', () => {
  const files = sourceFiles(srcDir);
  assert.ok(files.some((f) => f.endsWith('destination.ts')), `sources found in ${srcDir}`);
  const offenders = files.flatMap((f) => privateAccesses(fs.readFileSync(f, 'utf8')).map((name) => `${path.relative(srcDir, f)}: ${name}`));
  assert.deepEqual(offenders, []);
});
