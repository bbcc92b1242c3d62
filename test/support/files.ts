/** Paths and temporary files for tests of every tier (no database, no process). */
import { existsSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function tempDir(prefix = "cibles-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a file in a temp dir and returns its path. */
export function writeTemp(name: string, content: string | Buffer, dir = tempDir()): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/**
 * Writes a database dump at `path` through a file of this process's own, then renames it (atomic):
 * two workers (or two runs) making the same dump never leave a half-written one.
 */
export async function writeDumpAtomic(path: string, dump: Blob): Promise<void> {
  const partial = `${path}.${process.pid}`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, path);
}

/** Golden cases: ../shared/golden when present (the reference's, including unseen ones), else fixtures/golden. */
export function goldenRoot(): string {
  const shared = join(ROOT, "..", "shared", "golden");
  return existsSync(shared) ? shared : join(ROOT, "fixtures", "golden");
}
