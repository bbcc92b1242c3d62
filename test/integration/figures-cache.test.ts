/**
 * Issue 18 §1: computed figures cached per data version. After each kind of change (an import,
 * an adjustment decision, a declared file active, a referential change, a table emptied) the
 * next cached figure equals a fresh computation, on both backends; a rolled-back change and a
 * change in another grappe keep the cached figure; two server processes on one PostgreSQL
 * database never serve a stale figure.
 */
import { expect } from "vitest";
import { type Db, savepointDb } from "../../db/index.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importFileActive, importReferential } from "../../ingest/programme.ts";
import { createAction } from "../../services/actions.ts";
import { decideAdjustment, proposeAdjustment } from "../../services/adjustments.ts";
import { listActions } from "../../sql/actions.ts";
import { adjustmentsInView } from "../../sql/adjustments.ts";
import { importSpans } from "../../sql/completeness.ts";
import {
  cachedHistory,
  cachedImportSpans,
  cachedReport,
  cacheStats,
  dataVersions,
  essmsAndVersion,
  grappeAndVersion,
  reportAt,
} from "../../sql/figures-cache.ts";
import { computeReport, history } from "../../sql/queries.ts";
import { essmsByFiness, essmsImports, grappesByIds, listImports } from "../../sql/resources.ts";
import { agendaAction, oppositionProposal, populate, REFERENTIAL, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { exportHeader, loadRows, SECRET, writeTemp } from "../support/helpers.ts";

const D = "2025-07-01";

/** Warms the cache, runs `change`, then checks the cached figures against fresh ones. */
async function expectFreshAfter(
  db: Db,
  change: () => Promise<unknown>,
  opts: { changes: boolean } = { changes: true },
) {
  const before = await cachedReport(db, D, "T1");
  const histBefore = await cachedHistory(db, "2025-01-01", D, { grappe: "T1" });
  // A second read is a hit: the same object, no query.
  const warm = cacheStats(db);
  expect(await cachedReport(db, D, "T1")).toEqual(before);
  expect(cacheStats(db).hits).toBe(warm.hits + 1);
  const v0 = (await dataVersions(db, ["T1"])).get("T1") ?? 0;

  await change();

  const v1 = (await dataVersions(db, ["T1"])).get("T1") ?? 0;
  const stats = cacheStats(db);
  const after = await cachedReport(db, D, "T1");
  const histAfter = await cachedHistory(db, "2025-01-01", D, { grappe: "T1" });
  expect(after).toEqual(await computeReport(db, D, "T1"));
  expect(histAfter).toEqual(await history(db, "2025-01-01", D, { grappes: "T1" }));
  if (opts.changes) {
    expect(v1).toBeGreaterThan(v0);
    expect(cacheStats(db).misses).toBe(stats.misses + 2);
    expect(after).not.toEqual(before);
  } else {
    expect(v1).toBe(v0);
    expect(cacheStats(db).hits).toBe(stats.hits + 2);
    expect(after).toEqual(before);
    expect(histAfter).toEqual(histBefore);
  }
}

describeOnBackends("computed figures cached per data version", { seed: populate }, () => {
  it("an import of dossiers changes the figures of its grappe at once", async ({ db }) => {
    await expectFreshAfter(db, () =>
      loadRows(db, "dossiers", [
        "340000017;nouveau-1;2025-06-01;;;2025-06-15;",
        "340000017;nouveau-2;2025-06-01;;;2025-06-15;",
      ]),
    );
  });

  it("an adjustment approved by the ARS changes them", async ({ db }) => {
    const a = await proposeAdjustment(db, oppositionProposal("340000017"), USERS.amoa?.email as string);
    await expectFreshAfter(db, () =>
      decideAdjustment(
        db,
        a.amenagement_id,
        { decision: "APPROUVE", comment: null },
        USERS.ars?.email as string,
      ),
    );
  });

  it("a declared file active changes them", async ({ db }) => {
    await expectFreshAfter(db, () =>
      importFileActive(
        db,
        writeTemp(
          "file_active.csv",
          "finess;date_debut;date_fin;valeur;source\n340000017;2025-01-01;2025-12-31;40;tableau de bord\n",
        ),
      ),
    );
  });

  it("a referential change (an ESSMS's eligible hours, an ESSMS leaving the grappe) changes them", async ({
    db,
  }) => {
    await expectFreshAfter(db, () =>
      importReferential(
        db,
        writeTemp("referentiel.csv", REFERENTIAL.replace(";3;0,5;2000;", ";3;0,25;2000;")),
      ),
    );
    await expectFreshAfter(db, () =>
      importReferential(
        db,
        writeTemp(
          "referentiel.csv",
          REFERENTIAL.replace("T1;Grappe test;OCC;310000039", "T2;Autre grappe;OCC;310000039"),
        ),
      ),
    );
  });

  it("a table emptied at once changes every grappe", async ({ db }) => {
    await expectFreshAfter(db, () => db.query("truncate projet_personnalise"));
  });

  it("a change rolled back, or made in another grappe, keeps the cached figures", async ({ db }) => {
    await expectFreshAfter(
      db,
      () =>
        db
          .transaction(async (tx) => {
            await tx.query("delete from sejour where finess = '340000017'");
            throw new Error("abandon");
          })
          .catch(() => undefined),
      { changes: false },
    );
    await expectFreshAfter(
      db,
      () => loadRows(db, "dossiers", ["350000014;breton-3;2025-06-01;;;2025-06-15;"]),
      { changes: false },
    );
    expect((await dataVersions(db, ["F1"])).get("F1")).toBeGreaterThan(0);
  });

  it("the completeness grid's import spans follow every import record, even one that changes no fact", async ({
    db,
  }) => {
    const row = "340000017;meme-ligne;2025-06-01;;;2025-06-15;";
    await loadRows(db, "dossiers", [row]);
    const warm = await cachedImportSpans(db, "T1");
    expect(warm).toEqual(await importSpans(db, ["T1"]));
    const v0 = (await dataVersions(db, ["T1"])).get("T1") ?? 0;
    // The same row again, in another file: nothing to change in the facts, a new import record.
    await loadRows(db, "dossiers", [row, row]);
    expect((await dataVersions(db, ["T1"])).get("T1")).toBeGreaterThan(v0);
    const after = await cachedImportSpans(db, "T1");
    expect(after).toEqual(await importSpans(db, ["T1"]));
    expect(after).not.toBe(warm); // read again, not the entry of the former version
  });

  it("an import's own row changed by hand changes the version: its end and status (the spans), its counters (the ESSMS page)", async ({
    db,
  }) => {
    await loadRows(db, "dossiers", ["340000017;ligne-main;2025-06-01;;;2025-06-15;"]);
    const [{ id } = { id: 0 }] = await db.query<{ id: number }>(
      "select max(import_id)::int as id from import where status = 'loaded'",
    );
    const version = async () => (await dataVersions(db, ["T1"])).get("T1") ?? 0;
    for (const change of [
      "update import set finished_at = '2030-01-01T00:00:00Z' where import_id = $1",
      "update import set status = 'failed' where import_id = $1",
    ]) {
      const warm = await cachedImportSpans(db, "T1");
      const v0 = await version();
      await db.query(change, [id]);
      expect(await version()).toBeGreaterThan(v0);
      const after = await cachedImportSpans(db, "T1");
      expect(after).toEqual(await importSpans(db, ["T1"]));
      expect(after).not.toEqual(warm);
    }
    // Its counters and message, which the ESSMS page shows (migration 0013).
    const v1 = await version();
    await db.query(
      "update import set rows_rejected = rows_rejected + 1, message = 'x' where import_id = $1",
      [id],
    );
    expect(await version()).toBeGreaterThan(v1);
    // An update that changes nothing leaves it.
    const v2 = await version();
    await db.query("update import set message = message where import_id = $1", [id]);
    expect(await version()).toBe(v2);
  });

  it("keeps the version log append-only: deleting, changing or emptying it is refused", async ({ db }) => {
    await loadRows(db, "dossiers", ["340000017;journal;2025-06-01;;;2025-06-15;"]);
    const v = (await dataVersions(db, ["T1"])).get("T1") ?? 0;
    expect(v).toBeGreaterThan(0);
    for (const statement of [
      "delete from data_change where grappe_id = 'T1'",
      "update data_change set grappe_id = 'F1' where grappe_id = 'T1'",
      "truncate data_change",
    ])
      await expect(db.query(statement)).rejects.toThrow(/ne s'écrit qu'en ajout/);
    expect((await dataVersions(db, ["T1"])).get("T1")).toBe(v);
  });

  it("never stores a figure computed inside a transaction, even through a Db that runs in one (savepointDb)", async ({
    db,
  }) => {
    const clean = await cachedReport(db, D, "T1");
    await db
      .transaction(async (tx) => {
        await tx.query("delete from sejour where finess = '340000017'");
        const inner = savepointDb(db, tx);
        const seen = await reportAt(inner, D, "T1");
        expect(seen).not.toEqual(clean); // it sees its own uncommitted change…
        // …as do its history and import spans, computed afresh and never stored
        expect(await cachedHistory(inner, "2025-01-01", D, { grappe: "T1" })).toEqual(
          await history(tx, "2025-01-01", D, { grappes: "T1" }),
        );
        expect(await cachedImportSpans(inner, "T1")).toEqual(await importSpans(tx, ["T1"]));
        expect(cacheStats(inner)).toEqual({ hits: 0, misses: 0 });
        throw new Error("abandon");
      })
      .catch(() => undefined);
    // …which never reaches the cache: the rolled-back figure is not served, not even once the
    // grappe's version reaches the number it had inside that transaction (a change that moves
    // no figure).
    await db.query("update essms set rang = rang where finess = '340000017'");
    expect(await cachedReport(db, D, "T1")).toEqual(await computeReport(db, D, "T1"));
    expect(await cachedReport(db, D, "T1")).toEqual(clean);
    expect(await cachedHistory(db, "2025-01-01", D, { grappe: "T1" })).toEqual(
      await history(db, "2025-01-01", D, { grappes: "T1" }),
    );
  });

  it("a scope of several grappes is served from each grappe's figures, and equals the fresh report", async ({
    db,
  }) => {
    await cachedReport(db, D, "T1");
    const both = await cachedReport(db, D, ["T1", "F1"]);
    expect(both).toEqual(await computeReport(db, D, ["T1", "F1"]));
    await loadRows(db, "dossiers", ["350000014;breton-4;2025-06-01;;;2025-06-15;"]);
    expect(await cachedReport(db, D, ["T1", "F1"])).toEqual(await computeReport(db, D, ["T1", "F1"]));
    expect(await cachedReport(db, D, [])).toEqual(await computeReport(db, D, []));
  });
});

describeOnBackends("the ESSMS page's own lists", { seed: populate }, () => {
  it("are its own last imports, each reduced to its part of the file, whoever asks", async ({ db }) => {
    const X = "340000017";
    for (let i = 0; i < 11; i++) await loadRows(db, "dossiers", [`${X};liste-${i};2025-06-01;;;2025-06-15;`]);
    // A file with rows of two ESSMS of the grappe, and one rejected line of each.
    const name = "dossiers_mixte.csv";
    const mixed = await ingestFile(
      db,
      {
        path: writeTemp(
          name,
          [
            exportHeader("dossiers"),
            `${X};m-1;2025-05-01;;;2025-06-10;`,
            `${X};m-2;2025-05-03;;;2025-06-20;`,
            `${X};m-3;pas-une-date;;;2025-06-15;`,
            "2A0000017;m-4;2025-04-01;;;2025-07-01;",
            "2A0000017;m-5;pas-une-date;;;2025-06-15;",
            // enough valid lines for 2 rejected to stay under the 20 % that refuses a file
            ...Array.from({ length: 8 }, (_, i) => `310000039;m-${6 + i};2025-04-01;;;2025-06-15;`),
          ].join("\n"),
        ),
      },
      name,
      { secret: SECRET, importDay: "2025-08-01", actor: USERS.admin?.email as string },
    );
    expect(mixed.status).toBe("loaded");
    await db.query("update import set message = 'avertissement du fichier' where import_id = $1", [
      mixed.import_id,
    ]);
    const whole = await listImports(db, ["T1"], USERS.chef_projet?.email as string);
    for (const viewer of [
      { all: false, email: USERS.chef_projet?.email as string },
      { all: true, email: USERS.admin?.email as string },
    ]) {
      const mine = await essmsImports(db, X, viewer);
      expect(mine.map((i) => i.import_id)).toEqual(
        whole
          .filter((i) => i.finess.includes(X))
          .slice(0, 10)
          .map((i) => i.import_id),
      );
      expect(mine.every((i) => i.finess.length === 1 && i.finess[0] === X)).toBe(true);
      const [last] = mine;
      expect(last).toMatchObject({
        file_name: name,
        rows_loaded: 2,
        rows_rejected: 1,
        rows_total: 3,
        date_min: "2025-06-10",
        date_max: "2025-06-20",
      });
      // The file's message only for whoever sees it whole (unrestricted here; the chef did not send it).
      expect(last?.message ?? null).toBe(viewer.all ? "avertissement du fichier" : null);
    }
    expect(whole.some((i) => !i.finess.includes(X))).toBe(true);
  });

  it("its key's one query reads the rows and the version that the separate reads give", async ({ db }) => {
    await loadRows(db, "dossiers", ["340000017;cle-1;2025-06-01;;;2025-06-15;"]);
    const v = (await dataVersions(db, ["T1"])).get("T1");
    expect(v).toBeGreaterThan(0);
    const [g] = await grappesByIds(db, ["T1"]);
    expect(await grappeAndVersion(db, "T1")).toEqual({ grappe: g, version: v });
    expect(await essmsAndVersion(db, "340000017")).toEqual({
      essms: await essmsByFiness(db, "340000017"),
      grappe: g,
      version: v,
    });
    expect(await grappeAndVersion(db, "INCONNUE")).toBeNull();
    expect(await essmsAndVersion(db, "999999999")).toBeNull();
  });

  it("its adjustments and actions, read for it alone, are the grappe's filtered to it", async ({ db }) => {
    for (const [finess, indicateur] of [
      ["340000017", "dmp"],
      ["2A0000017", "dmp"],
      ["340000017", "mss"],
    ] as const) {
      await proposeAdjustment(db, oppositionProposal(finess, indicateur), USERS.amoa?.email as string);
      await createAction(db, agendaAction(finess), "T1", USERS.amoa?.email as string);
    }
    const targets = new Map([["T1", "2025-07-01"]]);
    const versions = await dataVersions(db, ["T1"]);
    const allAdjustments = await adjustmentsInView(db, ["T1"], D, targets);
    const mine = await adjustmentsInView(db, ["T1"], D, targets, { versions, finess: "340000017" });
    expect(mine).toHaveLength(2);
    expect(mine).toEqual(allAdjustments.filter((a) => a.finess === "340000017"));
    expect(allAdjustments.some((a) => a.finess !== "340000017")).toBe(true);
    const allActions = await listActions(db, ["T1"]);
    const myActions = await listActions(db, ["T1"], { finess: "340000017", versions });
    expect(myActions).toHaveLength(2);
    expect(myActions).toEqual(allActions.filter((a) => a.finess === "340000017"));
    // Nothing for an ESSMS without any.
    expect(await adjustmentsInView(db, ["T1"], D, targets, { finess: "310000039" })).toEqual([]);
    expect(await listActions(db, ["T1"], { finess: "310000039" })).toEqual([]);
  });
});
