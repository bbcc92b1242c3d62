/**
 * Starts a throwaway PostgreSQL server from Debian's binaries on 127.0.0.1 (as root, initdb and
 * pg_ctl run as the postgres user: tech-facts). Used by the test setup and the benchmarks.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PgServer {
  url: string;
  stop(): void;
  /** restarts the server at once (`pg_ctl restart -m fast`: every session is ended) */
  restart(): void;
  /** stops the server until `resume` (its data kept) */
  pause(): void;
  resume(): void;
}

function findBinDir(): string | null {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], "bin") : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/**
 * `durable: false` (tests) trades crash safety for speed: no fsync, no full-page images. The
 * benchmarks start a durable server, configured like a production one.
 */
export async function startPgServer(
  { durable }: { durable: boolean } = { durable: false },
): Promise<PgServer | { error: string }> {
  const bin = findBinDir();
  if (!bin) return { error: "binaires PostgreSQL introuvables (paquet Debian postgresql)" };
  const isRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "cibles-pg-"));
  chmodSync(dir, 0o755);
  const asPg = (cmd: string, args: string[]) =>
    isRoot
      ? spawnSync("runuser", ["-u", "postgres", "--", cmd, ...args], { encoding: "utf8" })
      : spawnSync(cmd, args, { encoding: "utf8" });
  if (isRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const init = asPg(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
  ]);
  if (init.status !== 0) return { error: `initdb a échoué : ${init.stderr}` };
  const port = await freePort();
  const fast = durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
  const opts = `-h 127.0.0.1 -p ${port} -k ${dir}${fast} -c max_connections=200`;
  const start = asPg(join(bin, "pg_ctl"), ["-D", data, "-l", join(dir, "log"), "-o", opts, "-w", "start"]);
  if (start.status !== 0) return { error: `pg_ctl start a échoué : ${start.stderr}${start.stdout}` };
  const ctl = (...args: string[]) => {
    const r = asPg(join(bin, "pg_ctl"), ["-D", data, ...args]);
    if (r.status !== 0) throw new Error(`pg_ctl ${args.join(" ")} a échoué : ${r.stderr}${r.stdout}`);
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      asPg(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: () => ctl("-l", join(dir, "log"), "-o", opts, "-m", "fast", "-w", "restart"),
    pause: () => ctl("-m", "fast", "-w", "stop"),
    resume() {
      const st = asPg(join(bin, "pg_ctl"), ["-D", data, "status"]);
      if (st.status !== 0) ctl("-l", join(dir, "log"), "-o", opts, "-w", "start");
    },
  };
}
