/**
 * What the whole run shares, made once in Vitest's main process:
 * - a real PostgreSQL server: TEST_DATABASE_URL when set, else one started from Debian's binaries,
 *   with a migrated template database (`pgTemplate`) that fresh databases copy. Without a server,
 *   outside CI, one visible line says the server tests did not run; under CI=true that is a failure.
 *   The quick tier (`npm run test:quick`, CIBLES_TEST_TIER=quick) starts none: PGlite only.
 * - a migrated PGlite data directory (`pgliteTemplate`), loaded by every fresh embedded database
 *   (0.8 s instead of 3–4 s to create and migrate one), kept between runs for the same schema;
 * - a folder of this run (`runDir`), removed at its end, where the databases of shared seeds are
 *   left by the first suite that makes them (helpers.ts `sharedSeed`);
 * - a FIFO (`fifo`), for the tests that check a pipe is refused unread: the tiers below `system`
 *   start no child process, `mkfifo` included.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDb } from "../../db/index.ts";
import { functionFiles, migrationFiles, sqlFile } from "../../db/migrate.ts";
import { ROOT, writeDumpAtomic } from "./files.ts";
import { startPgServer } from "./pg-server.ts";

/** The template database copied by `createPgDatabase({ migrated: true })`. */
const PG_TEMPLATE = "cibles_template";

export default async function setup(project: TestProject) {
  const quick = process.env.CIBLES_TEST_TIER === "quick";
  const dir = mkdtempSync(join(tmpdir(), "cibles-suite-"));
  const fifo = join(dir, "tube.csv");
  execFileSync("mkfifo", [fifo]);
  project.provide("fifo", fifo);
  project.provide("runDir", dir);

  const templates = await pgliteTemplates();
  project.provide("pgliteTemplate", templates.migrated);
  project.provide("pgliteEmpty", templates.empty);

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
 * The migrated PGlite data directory and the empty cluster it is made from, made once per schema:
 * kept in the system's temporary folder under the sha256 of the migrations, the rule functions,
 * PGlite's version and how the cluster is made, so that the next run (the quick loop) starts
 * without migrating again.
 */
async function pgliteTemplates(): Promise<{ migrated: string; empty: string }> {
  const h = createHash("sha256");
  h.update(smallCluster.toString());
  for (const f of migrationFiles()) h.update(sqlFile("migrations", f).sha256);
  for (const f of functionFiles()) h.update(sqlFile("functions", f).sha256);
  h.update(
    JSON.parse(readFileSync(join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json"), "utf8"))
      .version,
  );
  const key = h.digest("hex").slice(0, 16);
  const paths = {
    migrated: join(tmpdir(), `cibles-modele-pglite-${key}.tar`),
    empty: join(tmpdir(), `cibles-grappe-vide-pglite-${key}.tar`),
  };
  if (existsSync(paths.migrated) && existsSync(paths.empty)) return paths;
  const empty = await smallCluster();
  const embedded = await openDb({ memory: true, loadDataDir: empty });
  await embedded.query("checkpoint");
  const migrated = (await embedded.dumpDataDir?.()) ?? null;
  await embedded.close();
  if (!migrated) throw new Error("modèle PGlite : dumpDataDir indisponible");
  await writeDumpAtomic(paths.empty, empty);
  await writeDumpAtomic(paths.migrated, migrated);
  return paths;
}

/**
 * An empty PGlite cluster made to load fast: a database loads in time that grows with its data
 * directory (1.45 s for the default 42 MB, 0.8 s for 17 MB, measured here), and the tests need
 * neither the 16 MB WAL segment (1 MB here, `min_wal_size` 2 MB so that a checkpoint drops the
 * rest) nor the databases `template0` and `template1` (they create none). Its start sets up the
 * shared buffers: 16 MB instead of PostgreSQL's 128 MB took an open from ~1 s to ~0.3 s here, and
 * the golden medium import took the same time with either (everything lives in memory anyway).
 */
async function smallCluster(): Promise<Blob> {
  const bare = await PGlite.create({ initDbStartParams: ["--wal-segsize=1"] });
  try {
    for (const q of [
      "update pg_database set datistemplate = false where datname in ('template0', 'template1')",
      "drop database template0",
      "drop database template1",
      "alter system set min_wal_size = '2MB'",
      "alter system set shared_buffers = '16MB'",
    ])
      await bare.exec(q);
    return await bare.dumpDataDir("none");
  } finally {
    await bare.close();
  }
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
    /** The empty PGlite cluster the template is made from (tests of migrations themselves). */
    pgliteEmpty: string;
    fifo: string;
    runDir: string;
  }
}
