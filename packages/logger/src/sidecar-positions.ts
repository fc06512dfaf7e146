import fs from 'node:fs';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

/**
 * How far the Fluent Bit sidecar has read each log file, from its tail position database (SQLite,
 * table `in_tail_files`: `name`, `offset`, `inode`) on the shared volume.
 *
 * Node 20 has no built-in SQLite and a native module would need a compiler or a downloaded
 * prebuilt binary at install; sql.js (SQLite compiled to WebAssembly, shipped in the npm package)
 * reads a copy of the file's bytes. So Fluent Bit must keep its DB in a rollback-journal mode
 * (`DB.journal_mode delete`): in WAL mode the newest offsets sit in the `-wal` file, which a byte
 * copy of the main file does not see. A read that catches a write half done fails to parse or
 * gives an older offset; either way a file only looks less read than it is, which errs on keeping.
 */

export interface ReadPosition {
  /** The path as Fluent Bit knows it. */
  readonly name: string;
  /** Bytes Fluent Bit has read from the file (with filesystem buffering: in a chunk on the volume). */
  readonly offset: number;
}

let sqlJs: Promise<SqlJsStatic> | null = null;

/** Read positions by inode, or null when there is no DB yet (the sidecar has not started) or it cannot be read. */
export async function readSidecarPositions(dbPath: string): Promise<Map<number, ReadPosition> | null> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(dbPath);
  } catch {
    return null;
  }
  if (bytes.length === 0) return null;
  try {
    sqlJs ??= initSqlJs();
    const SQL = await sqlJs;
    const db = new SQL.Database(bytes);
    try {
      const positions = new Map<number, ReadPosition>();
      for (const result of db.exec('SELECT name, offset, inode FROM in_tail_files')) {
        for (const [name, offset, inode] of result.values) {
          positions.set(Number(inode), { name: String(name), offset: Number(offset) });
        }
      }
      return positions;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}
