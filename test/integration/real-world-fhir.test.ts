/**
 * FHIR files as real tools write them (../shared/real-world, copied in fixtures/real-world;
 * exports.md §6): the ANS's own example Bundle, a Bundle that repeats keys, and one whose subjects
 * point to a contained Patient or carry only the usager's identifier. Each gives the figures its
 * README states, worked out by hand below.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { importReferential } from "../../ingest/programme.ts";
import { computeReport } from "../../sql/queries.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { dumpRows, ROOT, resetFacts, SECRET } from "../support/helpers.ts";

const shared = join(ROOT, "..", "shared", "real-world");
const root = existsSync(join(shared, "tddui-official-example"))
  ? shared
  : join(ROOT, "fixtures", "real-world");
const at = (c: string, ...p: string[]) => join(root, c, ...p);
const opts = { secret: SECRET, importDay: "2025-08-01" } as const;

async function freshReferential(db: Db, c: string): Promise<void> {
  await resetFacts(db);
  await db.query("delete from essms");
  await db.query("delete from grappe");
  expect((await importReferential(db, at(c, "referentiel.csv"))).status).toBe("loaded");
}

async function essmsAt(db: Db, date: string, finess: string) {
  const e = (await computeReport(db, date, "T1")).essms.find((x) => x.finess === finess);
  if (!e) throw new Error(`ESSMS ${finess} absent du rapport`);
  return {
    fa: e.file_active.value,
    da: [e.indicators.dossiers_actifs.numerator, e.indicators.dossiers_actifs.denominator],
    agenda: [e.indicators.agenda.numerator, e.indicators.agenda.denominator],
  };
}

describeOnBackends("FHIR files as real tools write them", {}, () => {
  it("loads the ANS's example Bundle: 1 séjour, 1 event, no trace, warned; FA 1, DA 0/1; no NIR, name or local id stored", async ({
    db,
  }) => {
    await freshReferential(db, "tddui-official-example");
    const files = await ingestPaths(db, [at("tddui-official-example", "exports")], opts);
    expect(files.map((f) => [f.kind, f.status, f.rows, f.loaded, f.rejected])).toEqual([
      ["dossiers", "loaded", 1, 1, 0],
      ["agenda", "loaded", 1, 1, 0],
    ]);
    // No resource carries meta.lastUpdated: the summary says why its dossier cannot be active.
    expect(files[0]?.warnings).toEqual([{ kind: "sans_trace", count: 1 }]);
    expect(files[1]?.warnings).toBeUndefined();
    // By hand (R-T1, R-P1, R-P4): the séjour starts 2023-04-14 with no exit, so the usager is
    // accompanied in W = [D − 3 months, D) at D = 2023-05-01 and at D = 2023-07-14: FA 1. Its
    // dossier has no update trace at all (no meta.lastUpdated, no dossier_maj): DA 0 of 1.
    for (const date of ["2023-05-01", "2023-07-14"]) {
      const e = await essmsAt(db, date, "480787522");
      expect({ date, fa: e.fa, da: e.da }).toEqual({ date, fa: 1, da: [0, 1] });
    }
    // The NIR (also inside the séjour's and event's identifiers), names, birth date, birth
    // place, address and the usager's local id are stored nowhere.
    const dump = await dumpRows(db);
    for (const secret of [
      "147720425367411",
      "194704032",
      "DUPONT",
      "Jean",
      "1947-04-03",
      "Mazoires",
      "Vittefleur",
      "Lilas",
      "10103441234",
    ])
      expect(dump, secret).not.toContain(secret);
  });

  it("rejects both events of fhir-duplicate-keys (clé JSON en double), never last-wins: DA 2/2, agenda 0/2", async ({
    db,
  }) => {
    await freshReferential(db, "fhir-duplicate-keys");
    const files = await ingestPaths(db, [at("fhir-duplicate-keys", "exports")], opts);
    const dossiers = files.find((f) => f.kind === "dossiers");
    const agenda = files.find((f) => f.kind === "agenda");
    expect(dossiers).toMatchObject({ status: "loaded", rows: 2, loaded: 2, rejected: 0 });
    // Event 1 says `cancelled` then `finished`; event 2 names usager 2 then usager 1: neither is
    // read. Two rows of two rejected: beyond 20 %, the agenda part of the Bundle is refused.
    expect(agenda).toMatchObject({ status: "refused", rows: 2, loaded: 0, rejected: 2 });
    expect(agenda?.errors.map((e) => [e.line, e.column, e.reason])).toEqual([
      [5, "entry[5].resource.status", "cle_json_en_double"],
      [6, "entry[6].resource.subject", "cle_json_en_double"],
    ]);
    expect(agenda?.errors[0]?.message).toMatch(/^clé JSON en double/);
    // By hand: both séjours from 2024-01-01, open, traced 2025-05-10 (in W = [2025-04-01,
    // 2025-07-01)): FA 2, DA 2/2. No event was loaded: agenda 0 of the 2 accompanied usagers.
    const e = await essmsAt(db, "2025-07-01", "340000017");
    expect(e).toEqual({ fa: 2, da: [2, 2], agenda: [0, 2] });
    const [events] = await db.query<{ n: number }>("select count(*)::int as n from agenda_event");
    expect(events?.n).toBe(0);
  });

  it("reads all 10 séjours of fhir-contained-and-logical-ref, a contained #p1 and a subject.identifier among them: FA 10, DA 10/10", async ({
    db,
  }) => {
    await freshReferential(db, "fhir-contained-and-logical-ref");
    const files = await ingestPaths(db, [at("fhir-contained-and-logical-ref", "exports")], opts);
    expect(files.map((f) => [f.kind, f.status, f.rows, f.loaded, f.rejected])).toEqual([
      ["dossiers", "loaded", 10, 10, 0],
    ]);
    // By hand: ten usagers U0001…U0010 (U0001 from the contained Patient, U0002 from its
    // identifier), each a séjour from 2024-01-01 traced 2025-05-10: FA 10, DA 10/10 at 2025-07-01.
    const e = await essmsAt(db, "2025-07-01", "340000017");
    expect({ fa: e.fa, da: e.da }).toEqual({ fa: 10, da: [10, 10] });
    const [usagers] = await db.query<{ n: number }>("select count(*)::int as n from usager");
    expect(usagers?.n).toBe(10);
  });
});
