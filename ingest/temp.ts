/**
 * Temporary files never outlive their processing (issue 29 §5). Every temporary file of this
 * process (an upload being received or imported, a DUI export sent for re-identification, the
 * rejections of a large file) lives in one folder of its own, `TMPDIR/cibles-<pid>-<start>`, where
 * `<start>` is the process's start time as the kernel counts it: two servers may share a machine,
 * and a pid reused by another process does not make a dead one's folder look alive. At start the
 * folders of processes no longer running are removed (`sweepDeadTempDirs`); at a clean stop, this
 * process's own (`removeProcessTempDir`). Worker threads of the process find the same folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "cibles-";
const NAME = /^cibles-(\d+)-(\d+)$/;

/** A process's start time in clock ticks since boot (proc(5), field 22), or null when unknown. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number, start: string): boolean {
  const now = startTime(pid);
  if (now !== null) return now === start;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/** This process's temporary folder (created, owner-only, on first use). */
export function processTempDir(): string {
  const dir = join(tmpdir(), `${PREFIX}${process.pid}-${startTime(process.pid) ?? "0"}`);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** A new owner-only folder inside this process's temporary folder; the caller removes it when done. */
export function tempFolder(prefix: string): string {
  return mkdtempSync(join(processTempDir(), prefix));
}

/**
 * Removes the temporary folders that processes no longer running left behind (a kill -9, an
 * out-of-memory crash); returns how many. Folders of running processes are left alone.
 */
export function sweepDeadTempDirs(): number {
  let removed = 0;
  for (const name of readdirSync(tmpdir())) {
    const m = NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid, m[2] as string)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** Removes this process's temporary folder (a clean stop). */
export function removeProcessTempDir(): void {
  rmSync(join(tmpdir(), `${PREFIX}${process.pid}-${startTime(process.pid) ?? "0"}`), {
    recursive: true,
    force: true,
  });
}
