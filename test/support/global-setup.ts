/**
 * What the whole run shares, made once in Vitest's main process:
 * - a real PostgreSQL server: TEST_DATABASE_URL when set, else one started from Debian's binaries,
 *   with a migrated template database (`pgTemplate`) that fresh databases copy. Without a server,
 *   outside CI, one visible line says the server tests did not run; under CI=true that is a failure.
 *   The quick tier (`npm run test:quick`, CIBLES_TEST_TIER=quick) starts none: PGlite only.
 * - a migrated PGlite data directory (`pgliteTemplate`), loaded by every fresh embedded database
 *   (0.4 s instead of 2–3 s to create and migrate one), kept between runs for the same schema;
 * - a FIFO (`fifo`), for the tests that check a pipe is refused unread: the tiers below `system`
 *   start no child process, `mkfifo` included.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDb } from "../../db/index.ts";
import { functionFiles, migrationFiles, sqlFile } from "../../db/migrate.ts";
import { ROOT } from "./files.ts";
import { startPgServer } from "./pg-server.ts";

/** The template database copied by `createPgDatabase({ migrated: true })`. */
const PG_TEMPLATE = "cibles_template";

export default async function setup(project: TestProject) {
  const quick = process.env.CIBLES_TEST_TIER === "quick";
  const dir = mkdtempSync(join(tmpdir(), "cibles-suite-"));
  const fifo = join(dir, "tube.csv");
  execFileSync("mkfifo", [fifo]);
  project.provide("fifo", fifo);

  project.provide("pgliteTemplate", await pgliteTemplate());

  let stop: (() => void) | undefined;
  let url = quick ? "" : process.env.TEST_DATABASE_URL || "";
  if (!quick && !url) {
    const started = await startPgServer();
    if ("url" in started) {
      url = started.url;
      stop = started.stop;
    } else {
      const line = `⚠ Tests sur serveur PostgreSQL NON exécutés : ${started.error}`;
      if (process.env.CI === "true") throw new Error(`${line} (obligatoires sous CI=true)`);
      process.stderr.write(`\n${line}\n\n`);
    }
  }
  if (url) await makePgTemplate(url);
  project.provide("pgUrl", url);
  project.provide("pgTemplate", PG_TEMPLATE);
  return () => {
    stop?.();
    rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * The migrated PGlite data directory, made once per schema: kept in the system's temporary folder
 * under the sha256 of the migrations, the rule functions and PGlite's version, so that the next
 * run (the quick loop) starts without migrating again.
 */
async function pgliteTemplate(): Promise<string> {
  const h = createHash("sha256");
  for (const f of migrationFiles()) h.update(sqlFile("migrations", f).sha256);
  for (const f of functionFiles()) h.update(sqlFile("functions", f).sha256);
  h.update(
    JSON.parse(readFileSync(join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json"), "utf8"))
      .version,
  );
  const path = join(tmpdir(), `cibles-modele-pglite-${h.digest("hex").slice(0, 16)}.tar`);
  if (existsSync(path)) return path;
  const embedded = await openDb({ memory: true });
  const dump = (await embedded.dumpDataDir?.()) ?? null;
  await embedded.close();
  if (!dump) throw new Error("modèle PGlite : dumpDataDir indisponible");
  const partial = `${path}.${process.pid}`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, path);
  return path;
}

async function makePgTemplate(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`drop database if exists ${PG_TEMPLATE}`);
  await admin.query(`create database ${PG_TEMPLATE}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${PG_TEMPLATE}`;
  const db = await openDb({ databaseUrl: u.toString() });
  await db.close();
  // A closed pool's sessions end on the server a moment later: a copy needs the template alone.
  const check = new pg.Client({ connectionString: url });
  await check.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const r = await check.query("select count(*)::int as n from pg_stat_activity where datname = $1", [
        PG_TEMPLATE,
      ]);
      if (r.rows[0]?.n === 0) return;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`le modèle ${PG_TEMPLATE} garde des sessions ouvertes`);
  } finally {
    await check.end();
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    pgUrl: string;
    pgTemplate: string;
    pgliteTemplate: string;
    fifo: string;
  }
}
