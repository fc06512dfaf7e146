import fs from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { GeneratedFile } from './layout.js';

export interface Drift {
  readonly path: string;
  readonly problem: 'missing' | 'differs';
  /** Unified diff from the committed file to what would be generated now. */
  readonly diff: string;
}

/** The generated files whose committed copy under `root` is missing or differs. */
export function findDrift(root: string, files: readonly GeneratedFile[]): Drift[] {
  const drift: Drift[] = [];
  for (const file of files) {
    const full = path.join(root, file.path);
    let committed: string | null = null;
    try {
      committed = fs.readFileSync(full, 'utf8');
    } catch {
      committed = null;
    }
    if (committed === file.content) continue;
    drift.push({
      path: file.path,
      problem: committed === null ? 'missing' : 'differs',
      diff: createTwoFilesPatch(`${file.path} (committed)`, `${file.path} (generated now)`, committed ?? '', file.content),
    });
  }
  return drift;
}

/** What a `check` command prints for drifted files: each path, what is wrong, and its diff. */
export function describeDrift(drift: readonly Drift[]): string {
  return drift.map((d) => `${d.path}: ${d.problem === 'missing' ? 'missing' : 'differs from what would be generated now'}\n${d.diff}\n`).join('');
}

export function writeFiles(root: string, files: readonly GeneratedFile[]): string[] {
  return files.map((file) => {
    const full = path.join(root, file.path);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, file.content);
    return full;
  });
}
