/**
 * Check before loading (issue 16 §2, cli.md `ingest --dry-run`): the same reading, validation and
 * rejections as an import, what it would change, and nothing stored, on both backends; the API's
 * `POST /api/imports?dry_run=true`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { createApp } from "../../api/app.ts";
import { ingestPaths, planFiles } from "../../ingest/ingest.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { UploadQueue } from "../../services/imports.ts";
import { computeReport } from "../../sql/queries.ts";
import { LOCAL_ORIGIN, populate, sessionCookie } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { count, dumpRows, goldenRoot, ROOT, SECRET, writeTemp } from "../support/helpers.ts";

const mini = join(goldenRoot(), "mini");
const BUNDLE = join(ROOT, "fixtures", "tddui", "bundle-mini.json");
const HEADER = "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id";

describeOnBackends("dry run", { seed: "referential", reset: true }, () => {
  it("reports every file exactly as its import does, stores nothing, and tells what would change", async ({
    db,
  }) => {
    const opts = { secret: SECRET, importDay: "2025-08-01" } as const;
    const before = await dumpRows(db);
    const dry = [];
    for (const f of planFiles([join(mini, "exports")]))
      dry.push(await ingestFile(db, { path: f.path }, f.label, { ...opts, dryRun: true }));
    expect(await dumpRows(db)).toBe(before);
    const real = await ingestPaths(db, [join(mini, "exports")], opts);
    const comparable = (r: (typeof real)[number]) => ({
      file: r.file,
      status: r.status,
      rows: r.rows,
      loaded: r.loaded,
      rejected: r.rejected,
      errors: r.errors,
      message: r.message,
    });
    expect(dry.map(comparable)).toEqual(real.map(comparable));
    expect(dry.every((r) => r.dry_run === true && r.import_id === undefined)).toBe(true);
    // Each file's changes were measured against an empty database: every loaded row is new.
    const dossiers = dry.find((r) => r.file === "dossiers_2025-07.csv");
    expect(dossiers?.changes).toMatchObject({ new_rows: dossiers?.loaded, replacing_rows: 0 });
    expect(dossiers?.changes?.new_sejours).toBe(await count(db, "sejour"));
    expect(dossiers?.changes?.new_exits).toBe(await count(db, "sejour where date_sortie is not null"));
  });

  it("counts no new dossier for an agenda file whose usagers have none: their rows are said apart", async ({
    db,
  }) => {
    const opts = { secret: SECRET, importDay: "2025-08-01" } as const;
    const agenda = [
      "finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj",
      "340000017;sans-dossier-1;ev1;2025-05-02;;PLANIFIE;;",
      "340000017;sans-dossier-2;ev2;2025-05-03;;PLANIFIE;;",
    ].join("\n");
    const r = await ingestFile(db, { path: writeTemp("agenda_essai.csv", agenda) }, "agenda_essai.csv", {
      ...opts,
      dryRun: true,
    });
    expect(r).toMatchObject({ status: "loaded", loaded: 2, dry_run: true });
    // Two usagers registered in the rolled-back transaction, no dossier among them.
    expect(r.changes).toMatchObject({ new_dossiers: 0, new_sejours: 0, new_rows: 2 });
  });

  it("shows a later file's replacements, exits and effect on the indicators, and keeps nothing", async ({
    db,
  }) => {
    const opts = { secret: SECRET, importDay: "2025-08-01" } as const;
    const first = [
      HEADER,
      "340000017;r1;2024-01-01;;;2025-05-01;",
      "340000017;r2;2024-01-01;;;2025-05-01;",
    ].join("\n");
    expect(
      (await ingestFile(db, { path: writeTemp("dossiers_a.csv", first) }, "dossiers_a.csv", opts)).status,
    ).toBe("loaded");
    const next = [
      HEADER,
      "340000017;r1;2024-01-01;2025-04-15;;2025-05-01;", // r1 leaves: replaces its séjour, an exit
      "340000017;r3;2024-01-01;;;2025-06-01;", // a new dossier
      ";;;;;;",
    ].join("\n");
    const before = await dumpRows(db);
    const reportBefore = await computeReport(db, "2025-07-01", "T1");
    const r = await ingestFile(db, { path: writeTemp("dossiers_b.csv", next) }, "dossiers_b.csv", {
      ...opts,
      dryRun: true,
    });
    expect(await dumpRows(db)).toBe(before);
    expect(r).toMatchObject({ status: "loaded", rows: 2, loaded: 2, dry_run: true });
    expect(r.changes).toMatchObject({
      new_dossiers: 1,
      new_sejours: 1,
      new_exits: 1,
      new_rows: 1,
      replacing_rows: 1,
    });
    const real = await ingestFile(db, { path: writeTemp("dossiers_b.csv", next) }, "dossiers_b.csv", opts);
    expect(real.status).toBe("loaded");
    const reportAfter = await computeReport(db, "2025-07-01", "T1");
    // The effect it showed for today is the report's own change, at every date it names.
    for (const e of r.changes?.effect ?? []) {
      const at = e.date === "2025-07-01" ? [reportBefore, reportAfter] : null;
      if (!at) continue;
      const [b, a] = at.map(
        (rep) => rep.essms.find((x) => x.finess === e.finess)?.indicators.dossiers_actifs.rate,
      );
      expect([e.indicators.dossiers_actifs.before, e.indicators.dossiers_actifs.after]).toEqual([b, a]);
    }
    expect(r.changes?.effect.some((e) => e.date === "2025-07-01")).toBe(true); // VSR 2025-04-01 + 3 months
  });
});

describeOnBackends("dry run over the API", { seed: populate }, () => {
  it("answers POST /api/imports?dry_run=true with the check, storing nothing but its audit line", async ({
    db,
  }) => {
    const app = createApp({ db, secret: SECRET, log: () => {} });
    const cookie = await sessionCookie(app, "chef_projet");
    const before = await dumpRows(db, ["audit_log", "user_session", "login_throttle"]);
    const form = new FormData();
    form.set(
      "file",
      new File(
        [
          [
            HEADER,
            "340000017;api1;2024-01-01;;;2025-05-01;",
            "350000014;foreign;2024-01-01;;;2025-05-01;",
          ].join("\n"),
        ],
        "dossiers_essai.csv",
      ),
    );
    const res = await app.request("/api/imports?dry_run=true", {
      method: "POST",
      headers: { cookie, origin: LOCAL_ORIGIN },
      body: form,
    });
    expect(res.status).toBe(200);
    const r = (await res.json()) as {
      dry_run: boolean;
      status: string;
      loaded: number;
      rejected: number;
      changes: { new_dossiers: number };
    };
    expect(r).toMatchObject({ dry_run: true, status: "loaded", loaded: 1, rejected: 1 });
    expect(r.changes.new_dossiers).toBe(1);
    expect(await dumpRows(db, ["audit_log", "user_session", "login_throttle"])).toBe(before);
    const [audit] = await db.query<{ action: string }>(
      "select action from audit_log where action = 'import.check'",
    );
    expect(audit?.action).toBe("import.check");
  });
});

describeOnBackends("a TDDUI Bundle's check", { seed: "referential", reset: true }, () => {
  it("runs its kinds in one transaction: the effect it announces is what the import then does, and nothing is stored", async ({
    db,
  }) => {
    const opts = { secret: SECRET, importDay: "2025-08-01" } as const;
    const before = await dumpRows(db);
    const checked = await ingestPaths(db, [BUNDLE], { ...opts, dryRun: true });
    expect(await dumpRows(db)).toBe(before);
    expect(checked.length).toBeGreaterThan(1);
    const real = await ingestPaths(db, [BUNDLE], opts);
    const outline = (r: (typeof real)[number]) => [r.kind, r.status, r.rows, r.loaded, r.rejected];
    expect(checked.map(outline)).toEqual(real.map(outline));
    const effects = checked.flatMap((r) => r.changes?.effect ?? []);
    expect(effects.length).toBeGreaterThan(0);
    for (const e of effects) {
      const now = (await computeReport(db, e.date)).essms.find((x) => x.finess === e.finess);
      for (const [id, v] of Object.entries(e.indicators))
        expect([e.date, e.finess, id, now?.indicators[id as keyof typeof e.indicators].rate]).toEqual([
          e.date,
          e.finess,
          id,
          v.after,
        ]);
    }
    const dossiers = checked.find((r) => r.kind === "dossiers");
    expect(dossiers?.changes?.new_dossiers).toBe(await count(db, "usager"));
  });
});

describeOnBackends("a TDDUI Bundle over the API", { seed: populate }, () => {
  it("is checked by dry_run (nothing stored), then imported in the background like the command", async ({
    db,
  }) => {
    const uploads = new UploadQueue(db, () => {});
    const app = createApp({ db, secret: SECRET, log: () => {}, uploads });
    const cookie = await sessionCookie(app, "chef_projet");
    const send = (query: string) => {
      const form = new FormData();
      form.set("file", new File([readFileSync(BUNDLE)], "bundle-mini.json"));
      return app.request(`/api/imports${query}`, {
        method: "POST",
        headers: { cookie, origin: LOCAL_ORIGIN },
        body: form,
      });
    };
    const untouched = ["audit_log", "user_session", "login_throttle"];
    const before = await dumpRows(db, untouched);
    const dry = await send("?dry_run=true");
    expect(dry.status).toBe(200);
    const checked = (await dry.json()) as {
      dry_run: boolean;
      status: string;
      rows: number;
      loaded: number;
      changes?: { new_rows: number; effect: unknown[] };
    };
    expect(checked).toMatchObject({ dry_run: true, status: "loaded" });
    expect(checked.loaded).toBeGreaterThan(0);
    // What it would change, all its kinds together.
    expect(checked.changes?.new_rows).toBeGreaterThan(0);
    expect(checked.changes?.effect.length).toBeGreaterThan(0);
    expect(await dumpRows(db, untouched)).toBe(before);

    const up = await send("");
    expect(up.status).toBe(202);
    const { import_id } = (await up.json()) as { import_id: number };
    await uploads.drain();
    const got = (await (await app.request(`/api/imports/${import_id}`, { headers: { cookie } })).json()) as {
      status: string;
      rows_loaded: number;
    };
    expect(got.status).toBe("loaded");
    expect(got.rows_loaded).toBeGreaterThan(0);
    // The same Bundle imported by the command afterwards finds every kind already loaded.
    const again = await ingestPaths(db, [BUNDLE], { secret: SECRET });
    expect(again.every((r) => r.status === "skipped")).toBe(true);
  });
});
