/**
 * Privacy by construction on a PostgreSQL server (issue 35, ADR 0027): what `pg_dump` writes
 * of the database holds no DUI identifier of any kind, after a fresh import and after the
 * start-up keying of an older database (the command line keys it), nor after the start that
 * drops an older database's MS Santé destinataire (migration 0024); a server started with another
 * secret refuses to start, in French. The system tier always has its PostgreSQL server (global
 * setup); without one, createPgDatabase fails in French rather than skipping.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { openDb } from "../../db/index.ts";
import { guardSecret } from "../../ingest/keying.ts";
import { importReferential } from "../../ingest/programme.ts";
import { freePort, runCli } from "../support/cli-run.ts";
import { createPgDatabase, MINI_REFERENTIAL, SECRET, tempDir, writeTemp } from "../support/helpers.ts";
import { IDS, idsIn, loadAll, storeDestinataire, unkey } from "../support/privacy-inputs.ts";

function pgDump(url: string): string {
  const base = "/usr/lib/postgresql";
  const version = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "pg_dump")))
    .sort((a, b) => Number(b) - Number(a))[0];
  return execFileSync(join(base, version as string, "bin", "pg_dump"), ["--dbname", url], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
}

it("pg_dump holds no DUI identifier after a fresh import, nor after the start-up keying of an older database; another secret is refused", async () => {
  const url = await createPgDatabase({ migrated: true });
  const db = await openDb({ databaseUrl: url });
  let dirs: string[];
  try {
    expect((await importReferential(db, writeTemp("referentiel.csv", MINI_REFERENTIAL))).status).toBe(
      "loaded",
    );
    await guardSecret(db, SECRET);
    dirs = await loadAll(db);
    const fresh = pgDump(url);
    expect(fresh).toContain("tddui_zqx.json"); // what is stored as written is in the dump
    expect(idsIn(fresh)).toEqual([]);
    // As a database imported before migration 0019 holds them: the ids as written.
    await unkey(db, dirs);
  } finally {
    await db.close();
  }
  expect(idsIn(pgDump(url))).toEqual(expect.arrayContaining([...IDS.sejour, ...IDS.evenement]));

  const env = { DATABASE_URL: url, PSEUDONYMISATION_SECRET: SECRET, DATA_DIR: tempDir() };
  const empty = writeTemp("agenda_vide.csv", "finess;usager_id;evenement_id;date_debut\n");
  const keyed = await runCli(["ingest", empty, "--json"], env);
  expect(keyed.stderr).toMatch(/ligne\(s\) pseudonymisée\(s\), tables réécrites/);
  expect(idsIn(pgDump(url))).toEqual([]);

  // A database of before migration 0024 (the MS Santé destinataire kept as exported): the next
  // start drops the column and rewrites the table (its files: test/integration/privacy.test.ts).
  const older = await openDb({ databaseUrl: url, migrate: false });
  try {
    await storeDestinataire(older, IDS.destinataire[0] as string);
  } finally {
    await older.close();
  }
  expect(idsIn(pgDump(url))).toEqual([IDS.destinataire[0]]);
  const rewritten = await runCli(["ingest", empty, "--json"], env);
  expect(rewritten.stderr).toMatch(/MS Santé\) effacé des fichiers de la base : 1 table\(s\) réécrite\(s\)/);
  expect(idsIn(pgDump(url))).toEqual([]);

  const port = await freePort();
  const refused = await runCli(["serve", "--no-demo"], {
    ...env,
    PSEUDONYMISATION_SECRET: "un-autre-secret-0123456789abcdef",
    PORT: String(port),
    HOST: "127.0.0.1",
  });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /n'est pas celui avec lequel les données de cette base ont été pseudonymisées/,
  );
});
