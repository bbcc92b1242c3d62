/**
 * A crash mid-import leaves no partial data (exports.md §2): a child process importing a large
 * file is killed with SIGKILL; no row of the file is visible, and a re-run loads it whole.
 */
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../db/index.ts";
import { openDb } from "../../db/index.ts";
import { importReferential } from "../../ingest/programme.ts";
import { cliProcess, runCli } from "../support/cli-run.ts";
import {
  backends,
  count,
  createPgDatabase,
  MINI_REFERENTIAL,
  SECRET,
  tempDir,
  writeTemp,
} from "../support/helpers.ts";

const ROWS = 400_000;

async function bigAgenda(dir: string): Promise<string> {
  const path = join(dir, "agenda_big.csv");
  const out = createWriteStream(path);
  out.write("finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj\n");
  for (let i = 0; i < ROWS; i++) {
    if (
      !out.write(
        `340000017;u${i % 5000};ev${i};2025-05-${String((i % 28) + 1).padStart(2, "0")};;Réalisé;Soins;\n`,
      )
    ) {
      await new Promise<void>((r) => out.once("drain", () => r()));
    }
  }
  await new Promise<void>((r) => out.end(() => r()));
  return path;
}

describe.runIf(backends().includes("pg"))("crash during an import on PostgreSQL", () => {
  let url: string;
  let db: Db;
  let file: string;
  beforeAll(async () => {
    url = await createPgDatabase();
    db = await openDb({ databaseUrl: url });
    await importReferential(db, writeTemp("referentiel.csv", MINI_REFERENTIAL));
    file = await bigAgenda(tempDir());
  });
  afterAll(async () => db?.close());

  it("SIGKILL mid-way leaves nothing; a re-run loads the file whole", async () => {
    const child = cliProcess(["ingest", file, "--json"], {
      DATABASE_URL: url,
      PSEUDONYMISATION_SECRET: SECRET,
    });
    const exited = new Promise((r) => child.on("exit", r));
    // Wait until the COPY is under way on the server, then kill the importer.
    const deadline = Date.now() + 60_000;
    let copying = false;
    while (!copying && Date.now() < deadline) {
      const rows = await db.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'copy stage%'",
      );
      copying = (rows[0]?.n ?? 0) > 0;
      if (!copying) await new Promise((r) => setTimeout(r, 50));
    }
    expect(copying).toBe(true);
    child.kill("SIGKILL");
    await exited;
    // The server notices the lost client and rolls its transaction back.
    await new Promise((r) => setTimeout(r, 500));
    expect(await count(db, "agenda_event")).toBe(0);
    expect(await count(db, "import where status = 'loaded'")).toBe(0);

    const rerun = await runCli(["ingest", file, "--json"], {
      DATABASE_URL: url,
      PSEUDONYMISATION_SECRET: SECRET,
    });
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).files[0]).toMatchObject({ status: "loaded", rows: ROWS, loaded: ROWS });
    expect(await count(db, "agenda_event")).toBe(ROWS);
    // Two imports of 400 000 rows: about 30 s alone, several times that under the full suite's load.
  }, 240_000);
});

describe("crash during an import on the embedded database", () => {
  it("SIGKILL mid-way leaves nothing; a re-run loads the file whole", async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, PSEUDONYMISATION_SECRET: SECRET };
    expect(
      (await runCli(["referential", "import", writeTemp("referentiel.csv", MINI_REFERENTIAL)], env)).code,
    ).toBe(0);
    const file = await bigAgenda(tempDir());
    const child = cliProcess(["ingest", file], { ...env, CIBLES_PROGRESS: "1" });
    const exited = new Promise((r) => child.on("exit", r));
    // PGlite runs in the importing process: kill it once it reports rows read.
    await new Promise<void>((resolve) => {
      child.stderr?.on("data", (d: Buffer) => {
        if (d.toString().includes("lignes lues")) resolve();
      });
    });
    child.kill("SIGKILL");
    await exited;
    const db = await openDb({ dataDir });
    try {
      expect(await count(db, "agenda_event")).toBe(0);
      expect(await count(db, "import where status = 'loaded'")).toBe(0);
    } finally {
      await db.close();
    }
    const rerun = await runCli(["ingest", file, "--json"], env);
    expect(JSON.parse(rerun.stdout).files[0]).toMatchObject({ status: "loaded", loaded: ROWS });
    // Three embedded-database processes and 400 000 rows loaded: over 60 s once under the full
    // suite's load on 2 cores.
  }, 240_000);
});
