/**
 * TDDUI FHIR Bundles as input (ADR 0014): a Bundle built from the guide's profiles and examples
 * (fixtures/tddui) gives the same report as the equivalent CSV exports; a JSON file that is not a
 * TDDUI Bundle is refused whole in French; a row error names the JSON path; the INS, names and
 * birth dates never reach the database; a folder says what it does not read; reading is streamed.
 */
import { closeSync, copyFileSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { bundleEntries, dossierNumber, ingestBundle } from "../../ingest/tddui.ts";
import { computeReport } from "../../sql/queries.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import {
  clearId,
  count,
  dumpRows,
  ROOT,
  resetFacts,
  SECRET,
  tempDir,
  writeTemp,
} from "../support/helpers.ts";

const BUNDLE = join(ROOT, "fixtures", "tddui", "bundle-mini.json");
const EQUIVALENT = join(ROOT, "fixtures", "tddui", "equivalent");
const opts = { secret: SECRET, importDay: "2025-08-01" } as const;
const PROFILE = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/";

/** The facts of the database, by usager pseudonym rather than by import or usager number. */
async function facts(db: Db) {
  return {
    sejours: await db.query(
      `select s.finess, u.pseudonym, s.sejour_key, s.date_entree::text, s.date_sortie::text, s.date_creation::text, s.date_derniere_maj::text
       from sejour s join usager u using (usager) order by 1, 2, 3`,
    ),
    traces: await db.query(
      "select t.finess, u.pseudonym, t.day::text from update_trace t join usager u using (usager) order by 1, 2, 3",
    ),
    pp: await db.query<{ finess: string; pp_id: string; statut: string }>(
      `select p.finess, p.pp_id, u.pseudonym, p.statut, p.date_creation::text, p.date_debut::text, p.date_fin::text, p.date_maj::text
       from projet_personnalise p join usager u using (usager) order by 1, 2`,
    ),
    agenda: await db.query<{ finess: string; evenement_id: string; statut: string; type: string | null }>(
      `select a.finess, a.evenement_id, u.pseudonym, a.date_debut::text, a.date_fin::text, a.statut, a.type, a.date_maj::text
       from agenda_event a join usager u using (usager) order by 1, 2`,
    ),
  };
}

/** A small TDDUI Bundle of `n` événements of usager u1 (340000017), its entries given. */
function bundle(entries: unknown[], profile = `${PROFILE}tddui-bundle`): string {
  return JSON.stringify({
    resourceType: "Bundle",
    meta: { profile: [profile] },
    type: "transaction",
    entry: entries,
  });
}
const patient = {
  fullUrl: "urn:uuid:p1",
  resource: {
    resourceType: "Patient",
    identifier: [
      { system: "https://identifiant-medicosocial-localusager.esante.gouv.fr", value: "3340000017/u1" },
    ],
  },
};
function event(i: number, start: string, status = "finished") {
  return {
    fullUrl: `urn:uuid:e${i}`,
    resource: {
      resourceType: "Encounter",
      meta: { profile: [`${PROFILE}tddui-encounter-evenement`] },
      identifier: [{ value: `3340000017/u1-EVN-${i}` }],
      status,
      subject: { reference: "urn:uuid:p1" },
      partOf: { reference: "urn:uuid:s1" },
      period: { start, end: start },
    },
  };
}

describeOnBackends("TDDUI bundles", { seed: "referential", reset: true }, () => {
  it("gives the same report and facts as the equivalent CSV exports", async ({ db }) => {
    const fromBundle = await ingestPaths(db, [BUNDLE], opts);
    expect(fromBundle.map((r) => [r.kind, r.status, r.rows, r.loaded, r.rejected])).toEqual([
      ["dossiers", "loaded", 3, 3, 0],
      ["dossier_maj", "loaded", 1, 1, 0],
      ["projets_personnalises", "loaded", 3, 3, 0],
      ["agenda", "loaded", 3, 3, 0],
    ]);
    const reportBundle = await computeReport(db, "2025-07-01", "T1");
    const factsBundle = await facts(db);
    // Statuses mapped as the guide says (finished → TERMINE, on-hold → ENPAUSE…), identifiers
    // reduced to the DUI's number, a dateTime entry placed on its Paris day.
    // The ids are stored keyed (ADR 0027): read back among the Bundle's own.
    const events = ["2001", "2002", "2003"];
    const plans = ["3001", "3002", "3003"];
    expect(
      factsBundle.agenda
        .map((a) => [clearId("evenement", a.finess, a.evenement_id, events), a.statut, a.type])
        .sort(),
    ).toEqual([
      ["2001", "TERMINE", "2.1.1.1"],
      ["2002", "PLANIFIE", "Atelier mémoire"],
      ["2003", "ANNULE", null],
    ]);
    expect(factsBundle.pp.map((p) => [clearId("pp", p.finess, p.pp_id, plans), p.statut]).sort()).toEqual([
      ["3001", "ENCOURS"],
      ["3002", "ENPREPARATION"],
      ["3003", "ENPAUSE"],
    ]);
    // Importing the same bundle again loads nothing twice.
    expect((await ingestPaths(db, [BUNDLE], opts)).map((r) => r.status)).toEqual([
      "skipped",
      "skipped",
      "skipped",
      "skipped",
    ]);

    await resetFacts(db);
    const fromCsv = await ingestPaths(db, [EQUIVALENT], opts);
    expect(fromCsv.every((r) => r.status === "loaded" && r.rejected === 0)).toBe(true);
    expect(await computeReport(db, "2025-07-01", "T1")).toEqual(reportBundle);
    expect(await facts(db)).toEqual(factsBundle);
    const essms = reportBundle.essms.find((e) => e.finess === "340000017");
    expect(essms).toBeDefined();
    expect(JSON.stringify(essms)).toMatch(/"agenda"/);
  });

  it("never stores the INS, names, birth date or address of a Patient", async ({ db }) => {
    await ingestPaths(db, [BUNDLE], opts);
    const dump = await dumpRows(db);
    for (const secret of [
      "199999999999999",
      "NOMFICTIF",
      "Prenomfictif",
      "1931-02-03",
      "rue Fictive",
      "AUTRENOM",
      "SOIGNANTFICTIF",
    ])
      expect(dump).not.toContain(secret);
    // nor the usagers' local identifiers (pseudonymised) nor the usager part of the identifiers
    expect(dump).not.toMatch(/u1-SEJOUR|3340000017\/u1/);
  });

  it("refuses whole, in French, a JSON file that is not a TDDUI Bundle, and loads nothing", async ({
    db,
  }) => {
    const cases: [string, string, RegExp][] = [
      [
        "patient.json",
        JSON.stringify({ resourceType: "Patient", id: "x" }),
        /n'est pas un Bundle FHIR \(resourceType autre que Bundle\)/,
      ],
      // Nothing of the file's own text is echoed in a message (a refused file may hold names).
      [
        "identite.json",
        JSON.stringify({ resourceType: "DUPONT Jean 1931-02-03 199999999999999" }),
        /^(?!.*(DUPONT|1931|199999)).*n'est pas un Bundle FHIR/,
      ],
      [
        "entry_objet.json",
        JSON.stringify({
          resourceType: "Bundle",
          meta: { profile: [`${PROFILE}tddui-bundle`] },
          entry: { a: event(1, "2025-05-02") },
        }),
        /entry du Bundle doit être une liste/,
      ],
      // A value that is read beyond 16 MB (what is not read is skipped whatever its size: ADR 0023).
      [
        "entree_demesuree.json",
        bundle([patient, event(1, "2025-05-02"), event(2, "2025-05-02", "x".repeat(17 << 20))]),
        /dépasse 16 Mo à l'octet \d+ \(entry\[2\]\.resource\.status\) : fichier refusé, rien n'a été chargé/,
      ],
      [
        "autre_bundle.json",
        bundle([patient, event(1, "2025-05-02")], "http://example.org/autre-profil"),
        /profil TDDUIBundle/,
      ],
      ["casse.json", '{"resourceType":"Bundle","entry":[{"resource":', /document incomplet/],
      ["texte.json", "finess;usager_id\n340000017;u1\n", /fichier JSON illisible/],
      ["vide.json", bundle([patient]), /rien à importer/],
    ];
    for (const [name, content, message] of cases) {
      const results = await ingestPaths(db, [writeTemp(name, content)], opts);
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ status: "refused", loaded: 0 });
      expect(results[0]?.message).toMatch(message);
      expect(results[0]?.message).not.toMatch(/Unexpected|Tokenizer|token/i);
    }
    expect(await count(db, "agenda_event")).toBe(0);
    expect(await count(db, "usager")).toBe(0);
  });

  it("rejects a row with the JSON path of the faulty element, never its value, and loads the others", async ({
    db,
  }) => {
    const entries = [
      patient,
      ...Array.from({ length: 8 }, (_, i) => event(i + 1, `2025-05-0${i + 1}T10:00:00+02:00`)),
      event(9, "2025-13-45T10:00:00+02:00"),
      event(10, "2025-05-09T10:00:00+02:00", "in-progress"),
    ];
    const path = writeTemp("export_tddui.json", bundle(entries));
    const [r] = await ingestBundle(db, { path }, "export_tddui.json", opts);
    expect(r).toMatchObject({ kind: "agenda", status: "loaded", rows: 10, loaded: 8, rejected: 2 });
    expect(r?.errors.map((e) => [e.line, e.column, e.reason])).toEqual([
      [9, "entry[9].resource.period.start", "horodatage_illisible"],
      [9, "entry[9].resource.period.end", "horodatage_illisible"],
      [10, "entry[10].resource.status", "valeur_inconnue"],
    ]);
    expect(JSON.stringify(r?.errors)).not.toMatch(/2025-13-45|in-progress/);
    const stored = await db.query<{ line: number; column_name: string }>(
      "select line, column_name from import_rejection order by line, column_name",
    );
    expect(stored).toEqual([
      { line: 9, column_name: "entry[9].resource.period.end" },
      { line: 9, column_name: "entry[9].resource.period.start" },
      { line: 10, column_name: "entry[10].resource.status" },
    ]);
  });

  it("reports, in a folder, the .json it reads and the file it does not read", async ({ db }) => {
    const dir = tempDir();
    copyFileSync(BUNDLE, join(dir, "a_bundle.json"));
    writeFileSync(join(dir, "b_notes.docx"), "pas un export");
    const results = await ingestPaths(db, [dir], opts);
    expect(results.filter((r) => r.file === "a_bundle.json").map((r) => r.status)).toEqual([
      "loaded",
      "loaded",
      "loaded",
      "loaded",
    ]);
    const other = results.find((r) => r.file === "b_notes.docx");
    expect(other).toMatchObject({ status: "unread", loaded: 0 });
    expect(other?.message).toMatch(/fichier non lu : ni \.csv .*, ni \.json/);
  });

  it("keeps the DUI's number of a guide identifier and drops the usager part", () => {
    expect(dossierNumber("3480787529/147720425367411-SEJOUR-21564655", "SEJOUR")).toBe("21564655");
    expect(dossierNumber("3480787529/147720425367411-EVN-12548", "EVN")).toBe("12548");
    expect(dossierNumber("EVT-42", "EVN")).toBe("EVT-42");
    // The tag in another case, or misspelt: the usager part (a NIR in the guide's example) is
    // still dropped; without any hyphen, nothing of it is kept.
    expect(dossierNumber("3340000017/199999999999999-sejour-1001", "SEJOUR")).toBe("1001");
    expect(dossierNumber("3340000017/199999999999999-SEJ-1001", "SEJOUR")).toBe("1001");
    expect(dossierNumber("3340000017/199999999999999", "SEJOUR")).toBe("");
  });

  it("streams a large bundle: entries come as the bytes arrive, memory stays bounded", async () => {
    const total = 40_000;
    const one = JSON.stringify(event(0, "2025-05-02T10:00:00+02:00")).replace(/"e0"/, '"eX"');
    const pad = "x".repeat(2000); // ~2.4 KB per entry: ~100 MB in all, never held whole
    const path = join(tempDir(), "gros.json");
    const out = openSync(path, "w");
    writeSync(out, `{"resourceType":"Bundle","meta":{"profile":["${PROFILE}tddui-bundle"]},"entry":[`);
    for (let i = 0; i < total; i++) writeSync(out, `${i ? "," : ""}${one.slice(0, -1)},"note":"${pad}"}`);
    writeSync(out, "]}");
    closeSync(out);
    expect(statSync(path).size).toBeGreaterThan(90_000_000);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = 0;
    let seen = 0;
    const file = { src: { path }, label: "gros.json", encoding: "utf-8" as const, gzip: false };
    for await (const batch of bundleEntries(file, {})) {
      seen += batch.length;
      if (seen % 2000 < batch.length) {
        // What is held, not the garbage not yet collected (how much of it waits depends on the
        // heap the other files of this worker left: 140 MB of it was seen in the full run).
        global.gc?.();
        peak = Math.max(peak, process.memoryUsage().heapUsed - heapBefore);
      }
    }
    expect(seen).toBe(total);
    // Far less than the document's 100 MB ever lived in the heap at once.
    expect(peak).toBeLessThan(40_000_000);
  });
});

// Keeps the fixture honest: it is the guide's Bundle shape (profiles, transaction, requests).
it("the fixture bundle declares the guide's profiles", () => {
  const b = JSON.parse(readFileSync(BUNDLE, "utf8"));
  expect(b.meta.profile).toEqual([`${PROFILE}tddui-bundle`]);
  expect(b.type).toBe("transaction");
  const profiles = new Set(
    b.entry.flatMap((e: { resource: { meta?: { profile?: string[] } } }) => e.resource.meta?.profile ?? []),
  );
  for (const p of [
    "tddui-patient",
    "tddui-patient-ins",
    "tddui-organization",
    "tddui-encounter-sejour",
    "tddui-encounter-evenement",
    "tddui-careplan-projet-personnalise",
  ])
    expect(profiles.has(`${PROFILE}${p}`)).toBe(true);
});
