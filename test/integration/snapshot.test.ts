/** Frozen snapshots: immutable, independent of later imports, printed back identically. */
import { join } from "node:path";
import { expect } from "vitest";
import { DomainError } from "../../domain/errors.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importAdjustments, importFileActive, importReferential } from "../../ingest/programme.ts";
import { freezeReport } from "../../services/snapshots.ts";
import { computeReport } from "../../sql/queries.ts";
import { listSnapshots, readSnapshot } from "../../sql/snapshots.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { goldenRoot, SECRET } from "../support/helpers.ts";

const mini = join(goldenRoot(), "mini");
const D = "2025-07-01";

describeOnBackends(
  "snapshots",
  {
    seed: async (db) => {
      await importReferential(db, join(mini, "referentiel.csv"));
      await importAdjustments(db, join(mini, "amenagements.csv"));
      await importFileActive(db, join(mini, "file_active.csv"));
      await ingestPaths(db, [join(mini, "exports")], { secret: SECRET });
    },
  },
  () => {
    it("freezes the report with the rules version and the imports it rests on, untouched by later imports", async ({
      db,
    }) => {
      const before = await computeReport(db, D);
      const snap = await freezeReport(db, D, "T1", "ars@exemple.fr");
      expect(snap.report).toEqual(await computeReport(db, D, "T1"));
      expect(snap).toMatchObject({
        grappe_id: "T1",
        measurement_date: D,
        rules_version: "2025.1",
        created_by: "ars@exemple.fr",
      });
      const loaded = await db.query<{ sha256: string }>(
        "select sha256 from import where status = 'loaded' order by import_id",
      );
      expect(snap.imports.map((i) => i.sha256)).toEqual(loaded.map((l) => l.sha256));
      expect(snap.imports.every((i) => /^[0-9a-f]{64}$/.test(i.sha256) && i.rows_loaded > 0)).toBe(true);

      // A later import changes the live figures, never the frozen ones.
      const more = Array.from({ length: 5 }, (_, i) => `340000017;nouveau${i};2024-01-01;;;2025-05-01;`);
      const r = await ingestFile(
        db,
        {
          buffer: Buffer.from(
            [
              "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id",
              ...more,
            ].join("\n"),
          ),
        },
        "dossiers_plus.csv",
        { secret: SECRET },
      );
      expect(r.status).toBe("loaded");
      expect(await computeReport(db, D)).not.toEqual(before);
      expect(await readSnapshot(db, snap.snapshot_id)).toEqual(snap);
      expect(await listSnapshots(db, "T1")).toEqual([
        expect.objectContaining({ snapshot_id: snap.snapshot_id, measurement_date: D }),
      ]);
    });

    it("refuses to change or delete a frozen snapshot", async ({ db }) => {
      const snap = await freezeReport(db, D, null, "cli:test");
      await expect(
        db.query("update snapshot set created_by = 'x' where snapshot_id = $1", [snap.snapshot_id]),
      ).rejects.toThrow();
      await expect(
        db.query("delete from snapshot where snapshot_id = $1", [snap.snapshot_id]),
      ).rejects.toThrow();
      expect(await readSnapshot(db, snap.snapshot_id)).toEqual(snap);
    });

    it("refuses an unknown grappe and stores nothing", async ({ db }) => {
      const n = (await listSnapshots(db, null)).length;
      await expect(freezeReport(db, D, "NOPE", "x")).rejects.toMatchObject({
        code: "not_found",
        message: "grappe inconnue : NOPE",
      });
      await expect(freezeReport(db, D, "NOPE", "x")).rejects.toBeInstanceOf(DomainError);
      expect(await listSnapshots(db, null)).toHaveLength(n);
      expect(await readSnapshot(db, 999_999)).toBeNull();
    });
  },
);
