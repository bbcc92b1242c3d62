/**
 * Privacy by construction (issue 35, ADR 0027), on both backends:
 * - no DUI identifier of any kind is stored as written, from CSV files, a TDDUI Bundle or an
 *   upload: every row of every table, read back, holds none of an input's distinctive ids (the
 *   PostgreSQL server's own dump: test/system/privacy.test.ts; PGlite's data directory: below);
 * - a database whose rows still carry ids as written (imported before migration 0019) is keyed
 *   once at start-up: the very rows, figures, worklists and frozen snapshot a fresh import gives;
 * - a secret other than the one the keys were made with is refused, in French, changing nothing;
 * - the MS Santé `destinataire` is never stored (migration 0023), and an older database's values
 *   leave the table's files at the next start.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { openDb } from "../../db/index.ts";
import { migrate } from "../../db/migrate.ts";
import { isDomainError } from "../../domain/errors.ts";
import { INDICATOR_IDS } from "../../domain/indicators.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { guardSecret, WRONG_SECRET } from "../../ingest/keying.ts";
import { importReferential } from "../../ingest/programme.ts";
import { resolveSecret } from "../../ingest/pseudonym.ts";
import { freezeReport } from "../../services/snapshots.ts";
import { computeReport } from "../../sql/queries.ts";
import { readSnapshot } from "../../sql/snapshots.ts";
import { worklistDocument } from "../../sql/worklist.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import {
  dumpRows,
  goldenRoot,
  keyed,
  MINI_REFERENTIAL,
  pgliteDump,
  SECRET,
  tempDir,
  writeTemp,
} from "../support/helpers.ts";
import {
  ALL_IDS,
  distinctiveExports,
  fileHolds,
  IDS,
  idsIn,
  loadAll,
  storeDestinataire,
  tableFile,
  unkey,
} from "../support/privacy-inputs.ts";

/** What a user can see of the data: figures at two dates, every worklist of each ESSMS. */
async function visible(db: Db) {
  const out: Record<string, unknown> = {};
  for (const d of ["2025-07-01", "2025-08-01"] as const) {
    out[`report ${d}`] = await computeReport(db, d, null);
    for (const finess of ["340000017", "310000039"])
      for (const indicator of INDICATOR_IDS) {
        if (indicator === "mss") continue;
        const {
          pseudonyms: _inMemory,
          sejours: _alsoInMemory,
          ...doc
        } = await worklistDocument(db, { finess, grappe_id: "T1" }, d, indicator);
        out[`worklist ${finess} ${indicator} ${d}`] = doc;
      }
  }
  return out;
}

describeOnBackends("privacy by construction", { seed: "referential", reset: true }, () => {
  it("stores no DUI identifier of any kind as written, from CSV exports and a TDDUI Bundle", async ({
    db,
  }) => {
    await loadAll(db);
    // Every kind was loaded (the ids are there, keyed) …
    for (const table of [
      "sejour",
      "projet_personnalise",
      "agenda_event",
      "mss_message",
      "dmp_document",
      "optional_event",
    ]) {
      const [r] = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      expect(r?.n, table).toBeGreaterThan(0);
    }
    expect(
      await db.query("select 1 from agenda_event where evenement_id = $1", [
        keyed("evenement", "340000017", IDS.evenement[0] as string),
      ]),
    ).toHaveLength(1);
    expect(
      await db.query("select 1 from sejour where sejour_key = $1", [
        `s:${keyed("sejour", "340000017", IDS.sejour[0] as string)}`,
      ]),
    ).toHaveLength(1);
    // … and none as written, in any table.
    expect(idsIn(await dumpRows(db))).toEqual([]);
  });

  it("keys an older database once at start-up: the same rows, figures, worklists and snapshot as a fresh import", async ({
    db,
  }) => {
    const dirs = [join(goldenRoot(), "mini", "exports"), distinctiveExports()];
    await ingestPaths(db, dirs, { secret: SECRET });
    const snapshot = await freezeReport(db, "2025-07-01", "T1", "ars@test.invalid");
    const except = ["data_change", "privacy_state"];
    const fresh = { rows: await dumpRows(db, except), visible: await visible(db) };

    // As an older database holds them: ids as written, not yet keyed, no secret known.
    expect(await unkey(db, dirs)).toBeGreaterThan(10);
    expect(idsIn(await dumpRows(db))).toEqual(expect.arrayContaining(IDS.evenement));

    const g = await guardSecret(db, SECRET);
    expect(g.recorded).toBe(true);
    expect(g.keyed).toMatchObject({ agenda_event: expect.any(Number), sejour: expect.any(Number) });
    expect(Object.values(g.keyed ?? {}).every((n) => n > 0)).toBe(true);
    expect(idsIn(await dumpRows(db))).toEqual([]);
    expect(await dumpRows(db, except)).toBe(fresh.rows);
    expect(await visible(db)).toEqual(fresh.visible);
    expect(await readSnapshot(db, snapshot.snapshot_id)).toEqual(snapshot);
    const [state] = await db.query<{ identifiers_keyed: boolean }>(
      "select identifiers_keyed from privacy_state",
    );
    expect(state?.identifiers_keyed).toBe(true);
    // Once keyed, a later start keys nothing again.
    expect(await guardSecret(db, SECRET)).toEqual({ recorded: false, keyed: null, rewritten: [] });
    expect(await dumpRows(db, except)).toBe(fresh.rows);
  });

  it("refuses, in French, a secret other than the one its keys were made with, changing nothing", async ({
    db,
  }) => {
    await loadAll(db);
    await guardSecret(db, SECRET);
    const before = await dumpRows(db);
    const refused = await guardSecret(db, "un-autre-secret-0123456789abcdef").catch((e: unknown) => e);
    expect(isDomainError(refused, "validation")).toBe(true);
    expect((refused as Error).message).toBe(WRONG_SECRET);
    expect((refused as Error).message).toMatch(/n'est pas celui avec lequel/);
    expect(await dumpRows(db)).toBe(before);
    expect(await guardSecret(db, SECRET)).toEqual({ recorded: false, keyed: null, rewritten: [] });
  });
});

describeOnBackends("the MS Santé destinataire", { seed: "referential" }, () => {
  it("is no longer stored; an older database's values leave the table's files at the next start (migration 0023)", async ({
    db,
  }) => {
    await loadAll(db);
    await guardSecret(db, SECRET);
    // Accepted in the files, kept nowhere: no column, no value in any table.
    expect(
      await db.query("select 1 from information_schema.columns where column_name = 'destinataire'"),
    ).toEqual([]);
    expect(idsIn(await dumpRows(db))).toEqual([]);

    // As a database of before migration 0023 holds it: the address as exported, in every message.
    const address = IDS.destinataire[0] as string;
    await storeDestinataire(db, address);
    const before = await tableFile(db, "mss_message");
    expect(await fileHolds(db, before, address)).toBe(true); // the search sees the table's bytes
    expect(await migrate(db)).toEqual({ migrations: ["0023_mss_destinataire_dropped.sql"], functions: [] });
    // The column is gone, not its values: DROP COLUMN leaves them in the table's file …
    expect(await fileHolds(db, before, address)).toBe(true);
    const [listed] = await db.query<{ t: string[] }>("select tables_to_rewrite as t from privacy_state");
    expect(listed?.t).toEqual(["mss_message"]);
    const rows = await dumpRows(db, ["privacy_state"]);

    // … until the next start rewrites the table: no file of it keeps one, the rows are the same.
    expect(await guardSecret(db, SECRET)).toEqual({
      recorded: false,
      keyed: null,
      rewritten: ["mss_message"],
    });
    const after = await tableFile(db, "mss_message");
    expect(after).not.toBe(before);
    expect(await fileHolds(db, after, address)).toBe(false);
    expect(await fileHolds(db, before, address)).toBe(false);
    expect(await dumpRows(db, ["privacy_state"])).toBe(rows);
    const [emptied] = await db.query<{ t: string[] }>("select tables_to_rewrite as t from privacy_state");
    expect(emptied?.t).toEqual([]);
    // Once rewritten, a later start rewrites nothing again.
    expect(await guardSecret(db, SECRET)).toEqual({ recorded: false, keyed: null, rewritten: [] });
  });
});

describe("the embedded database's data directory", () => {
  it("holds no DUI identifier of any kind after a fresh import, in any of its files", async () => {
    const dataDir = tempDir("cibles-privacy-data-");
    // A data directory on disk, started from the run's migrated template (as `openDb` would make it).
    const db = await openDb({ dataDir, loadDataDir: pgliteDump("pgliteTemplate") });
    try {
      expect((await importReferential(db, writeTemp("referentiel.csv", MINI_REFERENTIAL))).status).toBe(
        "loaded",
      );
      await guardSecret(db, SECRET);
      await loadAll(db);
      await db.query("checkpoint");
    } finally {
      await db.close();
    }
    const found: string[] = [];
    let control = false; // what is stored as written is found: the search can see the data
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else {
          const bytes = readFileSync(path);
          if (bytes.includes("tddui_zqx.json")) control = true;
          for (const id of ALL_IDS)
            if (bytes.includes(id)) found.push(`${id} in ${path.slice(dataDir.length)}`);
        }
      }
    };
    walk(dataDir);
    expect(control).toBe(true);
    expect(found).toEqual([]);
  });

  it("keeps a generated secret owner-only, and refuses one that is not there", () => {
    const dataDir = tempDir("cibles-privacy-secret-");
    const secret = resolveSecret({ pseudonymisationSecret: undefined, databaseUrl: undefined, dataDir });
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dataDir, "pseudonymisation.secret")).mode & 0o777).toBe(0o600);
    expect(resolveSecret({ pseudonymisationSecret: undefined, databaseUrl: undefined, dataDir })).toBe(
      secret,
    );
    writeTemp("pseudonymisation.secret", "\n", dataDir);
    expect(() =>
      resolveSecret({ pseudonymisationSecret: undefined, databaseUrl: undefined, dataDir }),
    ).toThrow(/ne contient pas de secret/);
  });
});
