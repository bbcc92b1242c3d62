/**
 * JSON, FHIR and compressed inputs read as exports.md §1 and §6 say (issue 34; ADR 0023), each
 * kind with inputs of our own beside the shared ones (real-world-fhir.test.ts): .NET timestamps,
 * `.gz` of every kind, `unread` versus `skipped` (a dry run of a folder too), Bundles and FINESS
 * feeds as Windows saves them, repeated keys, every form of reference, resources not read
 * whatever their size, FHIR Bulk NDJSON, the `sans_trace` warning, and refusals placed by the byte
 * offset in the file as stored — on the command line's path, the upload API and the inbox alike.
 */
import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { expect } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Db } from "../../db/index.ts";
import { importFinessExtract } from "../../ingest/finess-extract.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import type { IngestFileResult } from "../../ingest/result.ts";
import { runInboxOnce } from "../../ingest/worker.ts";
import { UploadQueue } from "../../services/imports.ts";
import { computeReport } from "../../sql/queries.ts";
import { LOCAL_ORIGIN, populate, sessionCookie } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import {
  clearId,
  count,
  dumpRows,
  exportHeader,
  ROOT,
  resetFacts,
  SECRET,
  tempDir,
  writeTemp,
} from "../support/helpers.ts";

const opts = { secret: SECRET, importDay: "2025-08-01" } as const;
const PROFILE = "https://interop.esante.gouv.fr/ig/fhir/tddui/StructureDefinition/";
const LOCAL = "https://identifiant-medicosocial-localusager.esante.gouv.fr";
const NET_STAMP = "2025-05-10T10:00:00.1234567+02:00"; // what .NET writes on every resource

type Resource = Record<string, unknown>;
const patient = (id: string, local: string, extra: Resource = {}): Resource => ({
  resourceType: "Patient",
  id,
  identifier: [{ system: LOCAL, value: `3340000017/${local}` }],
  ...extra,
});
const sejour = (n: number, subject: unknown, extra: Resource = {}): Resource => ({
  resourceType: "Encounter",
  id: `s${n}`,
  meta: { profile: [`${PROFILE}tddui-encounter-sejour`], lastUpdated: NET_STAMP },
  identifier: [{ value: `3340000017/x-SEJOUR-${n}` }],
  subject,
  period: { start: "2024-01-01" },
  ...extra,
});
const evenement = (n: number, subject: unknown, extra: Resource = {}): Resource => ({
  resourceType: "Encounter",
  id: `e${n}`,
  meta: { profile: [`${PROFILE}tddui-encounter-evenement`], lastUpdated: NET_STAMP },
  identifier: [{ value: `3340000017/x-EVN-${n}` }],
  status: "finished",
  subject,
  period: { start: "2025-05-20T09:30:00.1234567+02:00" },
  ...extra,
});
const entry = (r: Resource, fullUrl: string | null = `urn:uuid:${r.id}`) =>
  fullUrl ? { fullUrl, resource: r } : { resource: r };
function bundleText(entries: unknown[], top: Resource = {}): string {
  return JSON.stringify({
    resourceType: "Bundle",
    meta: { profile: [`${PROFILE}tddui-bundle`] },
    type: "transaction",
    ...top,
    entry: entries,
  });
}
/** Two usagers, a séjour each and an event with a non-ASCII type (read as written). */
const SMALL = bundleText([
  entry(patient("p1", "u1")),
  entry(patient("p2", "u2")),
  entry(sejour(1, { reference: "urn:uuid:p1" })),
  entry(sejour(2, { reference: "Patient/p2" })),
  entry(evenement(1, { reference: "urn:uuid:p1" }, { type: [{ text: "Atelier mémoire" }] })),
]);
const ndjson = (rs: Resource[]) => `${rs.map((r) => JSON.stringify(r)).join("\n")}\n`;
const csvRows = (n: number, prefix: string) =>
  [
    exportHeader("dossiers"),
    ...Array.from({ length: n }, (_, i) => `340000017;${prefix}${i};2024-01-01;;;2025-05-01;`),
  ].join("\n");

const brief = (rs: IngestFileResult[]) => rs.map((r) => [r.file, r.kind, r.status, r.loaded, r.rejected]);
const facts = async (db: Db) => ({
  sejours: await count(db, "sejour"),
  agenda: await db.query<{ finess: string; evenement_id: string; type: string | null; statut: string }>(
    "select finess, evenement_id, type, statut from agenda_event order by evenement_id",
  ),
});

describeOnBackends("JSON, FHIR and compressed inputs", { seed: "referential", reset: true }, () => {
  it("reads .NET timestamps (7 fraction digits) in a Bundle: the séjour loads and its trace counts", async ({
    db,
  }) => {
    const files = await ingestPaths(db, [writeTemp("dotnet.json", SMALL)], opts);
    expect(brief(files).map((r) => r.slice(1))).toEqual([
      ["dossiers", "loaded", 2, 0],
      ["agenda", "loaded", 1, 0],
    ]);
    // Traced 2025-05-10 (in W of 2025-07-01): both dossiers active.
    const e = (await computeReport(db, "2025-07-01", "T1")).essms.find((x) => x.finess === "340000017");
    expect(e?.indicators.dossiers_actifs.numerator).toBe(2);
  });

  it("reads every kind gzipped as its content; a folder's other files are unread, never skipped", async ({
    db,
  }) => {
    const dir = tempDir();
    writeFileSync(join(dir, "dossiers_a.csv.gz"), gzipSync(csvRows(3, "a")));
    writeFileSync(join(dir, "b_bundle.json.gz"), gzipSync(SMALL));
    mkdirSync(join(dir, "bulk"));
    writeFileSync(join(dir, "bulk", "1.Patient.ndjson.gz"), gzipSync(ndjson([patient("p9", "u9")])));
    writeFileSync(join(dir, "bulk", "Encounter.ndjson"), ndjson([sejour(9, { reference: "Patient/p9" })]));
    writeFileSync(join(dir, "notes.txt"), "pas un export");
    writeFileSync(join(dir, "notes.txt.gz"), gzipSync("pas un export"));
    writeFileSync(join(dir, "exports.zip"), "PK\u0003\u0004");
    const files = await ingestPaths(db, [dir], opts);
    expect(brief(files)).toEqual([
      ["b_bundle.json.gz", "dossiers", "loaded", 2, 0],
      ["b_bundle.json.gz", "agenda", "loaded", 1, 0],
      ["bulk/*.ndjson", "dossiers", "loaded", 1, 0],
      ["dossiers_a.csv.gz", "dossiers", "loaded", 3, 0],
      ["exports.zip", null, "unread", 0, 0],
      ["notes.txt", null, "unread", 0, 0],
      ["notes.txt.gz", null, "unread", 0, 0],
    ]);
    expect(files.find((f) => f.file === "notes.txt")?.message).toMatch(/^fichier non lu : ni \.csv/);
    expect(await count(db, "sejour")).toBe(6);
    // The same content stored plain is the same content: skipped, whatever its compression.
    writeFileSync(join(dir, "bulk", "again.csv"), csvRows(3, "a"));
    const again = await ingestPaths(db, [join(dir, "bulk", "again.csv")], { ...opts, kind: "dossiers" });
    expect(again[0]).toMatchObject({ status: "skipped" });
  });

  it("answers skipped in a dry run of a folder for a file whose content an earlier file holds, storing nothing", async ({
    db,
  }) => {
    const dir = tempDir();
    writeFileSync(join(dir, "dossiers_a.csv"), csvRows(4, "d"));
    writeFileSync(join(dir, "dossiers_b.csv"), csvRows(4, "d"));
    writeFileSync(join(dir, "dossiers_c.csv.gz"), gzipSync(csvRows(4, "d")));
    writeFileSync(join(dir, "d.json"), SMALL);
    writeFileSync(join(dir, "e.json"), SMALL);
    const before = await dumpRows(db);
    const dry = await ingestPaths(db, [dir], { ...opts, dryRun: true });
    expect(dry.map((r) => [r.file, r.kind, r.status])).toEqual([
      ["d.json", "dossiers", "loaded"],
      ["d.json", "agenda", "loaded"],
      ["dossiers_a.csv", "dossiers", "loaded"],
      ["dossiers_b.csv", "dossiers", "skipped"],
      ["dossiers_c.csv.gz", "dossiers", "skipped"],
      ["e.json", "dossiers", "skipped"],
      ["e.json", "agenda", "skipped"],
    ]);
    expect(dry.find((r) => r.file === "dossiers_b.csv")?.message).toMatch(/même contenu que dossiers_a\.csv/);
    expect(await dumpRows(db)).toBe(before);
    // The import says the same of the same files.
    const real = await ingestPaths(db, [dir], opts);
    expect(real.map((r) => [r.file, r.status])).toEqual(dry.map((r) => [r.file, r.status]));
  });

  it("reads Bundles as Windows saves them (UTF-16 LE and BE with BOM, Windows-1252, UTF-8 with BOM): the same facts", async ({
    db,
  }) => {
    const dir = tempDir();
    const variants: Record<string, Buffer> = {
      "powershell-utf16le.json": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SMALL, "utf16le")]),
      "utf16be.json": Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(SMALL, "utf16le").swap16()]),
      "ansi-1252.json": Buffer.from(SMALL, "latin1"),
      "bom-utf8.json": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SMALL, "utf8")]),
    };
    let reference: Awaited<ReturnType<typeof facts>> | null = null;
    for (const [name, bytes] of Object.entries(variants)) {
      await resetFacts(db);
      writeFileSync(join(dir, name), bytes);
      const files = await ingestPaths(db, [join(dir, name)], opts);
      expect(
        brief(files).map((r) => r.slice(1)),
        name,
      ).toEqual([
        ["dossiers", "loaded", 2, 0],
        ["agenda", "loaded", 1, 0],
      ]);
      const got = await facts(db);
      expect(got.agenda[0]?.type, name).toBe("Atelier mémoire");
      reference ??= got;
      expect(got, name).toEqual(reference);
    }
  });

  it("reads the FINESS JSON feed in UTF-16 and Windows-1252 with the same names", async ({ db }) => {
    const feed = readFileSync(
      join(ROOT, "fixtures", "finess-feed", "finess-structures-mini.json"),
      "utf8",
    ).replace("EHPAD LES PINS", "EHPAD LES PINS D'ÉTÉ");
    const names = async () =>
      (
        await db.query<{ raison_sociale: string }>(
          "select raison_sociale from finess_reference order by finess",
        )
      ).map((r) => r.raison_sociale);
    const load = async (name: string, bytes: Buffer) => {
      await db.query("truncate finess_reference");
      const r = await importFinessExtract(db, writeTemp(name, bytes));
      expect(r.status, name).toBe("loaded");
      return names();
    };
    const utf8 = await load("flux-utf8.json", Buffer.from(feed));
    expect(utf8).toContain("EHPAD LES PINS D'ÉTÉ");
    expect(
      await load("flux-utf16.json", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(feed, "utf16le")])),
    ).toEqual(utf8);
    expect(await load("flux-1252.json", Buffer.from(feed, "latin1"))).toEqual(utf8);
    expect(
      await load(
        "flux-utf16.json.gz",
        gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(feed, "utf16le")])),
      ),
    ).toEqual(utf8);
  });

  it("never reads a repeated key last-wins: the entry is rejected, the Bundle's own field refuses the file", async ({
    db,
  }) => {
    const raw = (s: string) => s; // JSON text written by hand: JSON.stringify cannot repeat a key
    const p1 = JSON.stringify(entry(patient("p1", "u1")));
    const p2 = JSON.stringify(entry(patient("p2", "u2")));
    const s1 = JSON.stringify(entry(sejour(1, { reference: "urn:uuid:p1" })));
    const s2 = JSON.stringify(entry(sejour(2, { reference: "urn:uuid:p2" })));
    const ev = (n: number, inner: string) =>
      raw(
        `{"fullUrl":"urn:uuid:e${n}","resource":{"resourceType":"Encounter","meta":{"profile":["${PROFILE}tddui-encounter-evenement"]},"identifier":[{"value":"3340000017/x-EVN-${n}"}],${inner},"period":{"start":"2025-05-20"}}}`,
      );
    const events = [
      ev(1, `"status":"cancelled","status":"finished","subject":{"reference":"urn:uuid:p1"}`),
      ev(
        2,
        `"status":"finished","subject":{"reference":"urn:uuid:p2"},"subject":{"reference":"urn:uuid:p1"}`,
      ),
      ev(3, `"status":"finished","subject":{"reference":"urn:uuid:p1","reference":"urn:uuid:p2"}`),
      ev(4, `"status":"finished","subject":{"reference":"urn:uuid:p1"},"note":"a","note":"b"`),
      ...Array.from({ length: 12 }, (_, i) =>
        ev(10 + i, `"status":"finished","subject":{"reference":"urn:uuid:p1"}`),
      ),
    ];
    const head = `{"resourceType":"Bundle","meta":{"profile":["${PROFILE}tddui-bundle"]},"type":"transaction"`;
    const doc = `${head},"entry":[${[p1, p2, s1, s2, ...events].join(",")}]}`;
    const [dossiers, agenda] = await ingestPaths(db, [writeTemp("doublons.json", doc)], opts);
    expect(dossiers).toMatchObject({ status: "loaded", loaded: 2 });
    expect(agenda).toMatchObject({ status: "loaded", rows: 16, loaded: 13, rejected: 3 });
    expect(agenda?.errors.map((e) => [e.column, e.reason])).toEqual([
      ["entry[4].resource.status", "cle_json_en_double"],
      ["entry[5].resource.subject", "cle_json_en_double"],
      ["entry[6].resource.subject.reference", "cle_json_en_double"],
    ]);
    // A key repeated in what is not read (a note) changes nothing: event 4 loads.
    expect(
      (await facts(db)).agenda.map((a) => clearId("evenement", a.finess, a.evenement_id, ["4"])),
    ).toContain("4");
    // A key repeated among the Bundle's own fields: the file is refused, nothing loaded.
    await resetFacts(db);
    const twice = `${head},"type":"batch","entry":[${[p1, s1].join(",")}]}`;
    const [refused] = await ingestPaths(db, [writeTemp("bundle-double.json", twice)], opts);
    expect(refused).toMatchObject({ status: "refused" });
    expect(refused?.message).toMatch(/^clé JSON en double dans les champs du Bundle \(type\)/);
    expect(await count(db, "sejour")).toBe(0);
  });

  it("reads every form of reference; one leading nowhere is rejected as référence introuvable", async ({
    db,
  }) => {
    const entries = [
      entry(patient("p1", "u1")),
      entry(patient("p2", "u2"), "https://dui.example.invalid/fhir/Patient/p2"),
      entry(patient("p3", "u3"), null),
      entry(sejour(1, { reference: "urn:uuid:p1" })),
      entry(sejour(2, { reference: "Patient/p2" })),
      entry(sejour(3, { reference: "https://autre.example.invalid/fhir/Patient/p3/_history/4" })),
      entry(
        sejour(
          4,
          { reference: "#c1" },
          {
            contained: [
              { resourceType: "Patient", id: "c1", identifier: [{ system: LOCAL, value: "3340000017/u4" }] },
            ],
          },
        ),
      ),
      entry(sejour(5, { type: "Patient", identifier: { system: LOCAL, value: "3340000017/u5" } })),
      entry(
        sejour(6, {
          reference: "urn:uuid:nulle-part",
          identifier: { system: LOCAL, value: "3340000017/u6" },
        }),
      ),
      ...Array.from({ length: 10 }, (_, i) => entry(sejour(20 + i, { reference: "urn:uuid:p1" }))),
      entry(sejour(7, { reference: "urn:uuid:nulle-part" })),
      entry(sejour(8, { reference: "#absent", contained: [] })),
      entry(sejour(9, { identifier: { system: "urn:oid:1.2.250.1.213.1.4.8", value: "199999999999999" } })),
    ];
    const [r] = await ingestPaths(db, [writeTemp("references.json", bundleText(entries))], opts);
    expect(r).toMatchObject({ kind: "dossiers", status: "loaded", rows: 19, loaded: 16, rejected: 3 });
    expect(r?.errors.map((e) => [e.column, e.reason, e.message.split(" :")[0]])).toEqual([
      ["entry[19].resource.subject.reference", "reference_introuvable", "référence introuvable"],
      ["entry[20].resource.subject.reference", "reference_introuvable", "référence introuvable"],
      ["entry[21].resource.subject.identifier", "reference_introuvable", "référence introuvable"],
    ]);
    // u1…u6: the contained Patient, the identifier alone and the one beside a dangling reference.
    expect(await count(db, "usager")).toBe(6);
    expect(JSON.stringify(await dumpRows(db))).not.toContain("199999999999999");
  });

  it("skips a resource it does not map whatever its size: a 17 MB inline PDF does not refuse the Bundle", async ({
    db,
  }) => {
    const pdf = Buffer.alloc(13 << 20, 7).toString("base64"); // 17.3 MB of base64
    const doc = bundleText([
      entry(patient("p1", "u1")),
      entry(sejour(1, { reference: "urn:uuid:p1" })),
      entry({
        resourceType: "DocumentReference",
        id: "d1",
        content: [{ attachment: { contentType: "application/pdf", data: pdf } }],
      }),
      entry({ resourceType: "Consent", id: "c1", text: { div: `<div>${"x".repeat(1 << 20)}</div>` } }),
    ]);
    expect(doc.length).toBeGreaterThan(17 << 20);
    const [r] = await ingestPaths(db, [writeTemp("avec-pdf.json", doc)], opts);
    expect(r).toMatchObject({ kind: "dossiers", status: "loaded", loaded: 1 });
  });

  it("reads FHIR Bulk NDJSON as one Bundle's entries: a folder's files together, a .ndjson alone, a bad line refused by file and line", async ({
    db,
  }) => {
    const dir = tempDir();
    mkdirSync(join(dir, "export"));
    writeFileSync(
      join(dir, "export", "1.Patient.ndjson"),
      ndjson([patient("p1", "u1"), patient("p2", "u2")]),
    );
    writeFileSync(
      join(dir, "export", "Encounter.ndjson"),
      ndjson([
        sejour(1, { reference: "Patient/p1" }),
        sejour(2, { reference: "Patient/p2" }),
        evenement(1, { reference: "Patient/p1" }, { type: [{ text: "Atelier mémoire" }] }),
      ]),
    );
    const bulk = await ingestPaths(db, [dir], opts);
    expect(brief(bulk)).toEqual([
      ["export/*.ndjson", "dossiers", "loaded", 2, 0],
      ["export/*.ndjson", "agenda", "loaded", 1, 0],
    ]);
    const fromBulk = await facts(db);
    await resetFacts(db);
    await ingestPaths(db, [writeTemp("same.json", SMALL)], opts);
    expect(await facts(db)).toEqual(fromBulk);
    // A .ndjson file given alone: its subjects must be read within it (here by identifier).
    await resetFacts(db);
    const alone = writeTemp(
      "Encounter.ndjson",
      ndjson([
        ...[1, 2, 3, 4, 5].map((n) =>
          sejour(n, { identifier: { system: LOCAL, value: `3340000017/u${n}` } }),
        ),
        sejour(6, { reference: "Patient/ailleurs" }),
      ]),
    );
    const [one] = await ingestPaths(db, [alone], opts);
    expect(one).toMatchObject({ file: alone, status: "loaded", loaded: 5, rejected: 1 });
    expect(one?.errors).toEqual([
      expect.objectContaining({
        line: 6,
        column: `${alone}[6].subject.reference`,
        reason: "reference_introuvable",
      }),
    ]);
    // A line that is not JSON: refused, with its file and byte, nothing loaded.
    await resetFacts(db);
    writeFileSync(
      join(dir, "export", "Encounter.ndjson"),
      `${JSON.stringify(sejour(1, { reference: "Patient/p1" }))}\n{"resourceType":"Encounter",}\n`,
    );
    const [bad] = await ingestPaths(db, [dir], opts);
    expect(bad).toMatchObject({ file: "export/*.ndjson", status: "refused" });
    expect(bad?.message).toMatch(/^fichier JSON illisible à l'octet \d+ de export\/Encounter\.ndjson/);
    expect(await count(db, "sejour")).toBe(0);
  });

  it("loads a Bundle with no meta.lastUpdated anywhere, its summary warning sans_trace", async ({ db }) => {
    const bare = (r: Resource) => ({ ...r, meta: { profile: (r.meta as { profile: string[] }).profile } });
    const doc = bundleText([
      entry(patient("p1", "u1")),
      entry(bare(sejour(1, { reference: "urn:uuid:p1" }))),
      entry(bare(sejour(2, { reference: "urn:uuid:p1" }))),
    ]);
    const dry = await ingestPaths(db, [writeTemp("sans-trace.json", doc)], { ...opts, dryRun: true });
    expect(dry[0]?.warnings).toEqual([{ kind: "sans_trace", count: 2 }]);
    const [r] = await ingestPaths(db, [writeTemp("sans-trace.json", doc)], opts);
    expect(r).toMatchObject({ status: "loaded", loaded: 2, warnings: [{ kind: "sans_trace", count: 2 }] });
    // The import's record carries the same French sentence (the API and the dashboard show it).
    const [record] = await db.query<{ message: string }>("select message from import where import_id = $1", [
      r?.import_id,
    ]);
    expect(record?.message).toMatch(
      /^aucune trace de mise à jour \(meta\.lastUpdated\).*ses 2 dossiers ne pourront pas être comptés actifs/,
    );
    // A Bundle that carries one has no warning.
    await resetFacts(db);
    const [traced] = await ingestPaths(db, [writeTemp("trace.json", SMALL)], opts);
    expect(traced?.warnings).toBeUndefined();
  });

  it("places a refusal at the byte offset in the file as stored and its JSON path, never quoting the file", async ({
    db,
  }) => {
    const cut = (doc: string) => doc.replace('"status":"finished"', '"status":*finished');
    const doc = cut(SMALL);
    const at = Buffer.byteLength(doc.slice(0, doc.indexOf("*finished")));
    const cases: [string, Buffer, string][] = [
      ["utf8.json", Buffer.from(doc), `à l'octet ${at} (entry[4].resource.status)`],
      [
        "bom.json",
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(doc)]),
        `à l'octet ${at + 3} (entry[4].resource.status)`,
      ],
      [
        "utf16.json",
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(doc, "utf16le")]),
        `à l'octet ${2 + 2 * doc.indexOf("*finished")} (entry[4].resource.status)`,
      ],
      ["zip.json.gz", gzipSync(doc), `à l'octet ${at} du contenu décompressé (entry[4].resource.status)`],
    ];
    for (const [name, bytes, where] of cases) {
      const [r] = await ingestPaths(db, [writeTemp(name, bytes)], opts);
      expect(r?.status, name).toBe("refused");
      expect(r?.message, name).toBe(
        `fichier JSON illisible ${where} : un fichier .json doit être un Bundle FHIR TDDUI`,
      );
    }
  });
});

/** Files dropped long enough ago to be considered complete. */
function drop(inbox: string, name: string, content: string | Buffer): void {
  const p = join(inbox, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, content);
  const old = new Date(Date.now() - 60_000);
  utimesSync(p, old, old);
}

describeOnBackends("JSON inputs over the API and the inbox", { seed: populate }, () => {
  it("reads a gzipped UTF-16 Bundle uploaded (checked, then imported) with the same summary as the command", async ({
    db,
  }) => {
    const uploads = new UploadQueue(db, () => {});
    const app = createApp({ db, secret: SECRET, log: () => {}, uploads });
    const cookie = await sessionCookie(app, "chef_projet");
    const bare = bundleText([
      entry(patient("p1", "api1")),
      entry({
        ...sejour(1, { reference: "urn:uuid:p1" }),
        meta: { profile: [`${PROFILE}tddui-encounter-sejour`] },
      }),
    ]);
    const bytes = gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(bare, "utf16le")]));
    const send = (query: string) => {
      const form = new FormData();
      form.set("file", new File([new Uint8Array(bytes)], "export-windows.json.gz"));
      return app.request(`/api/imports${query}`, {
        method: "POST",
        headers: { cookie, origin: LOCAL_ORIGIN },
        body: form,
      });
    };
    const dry = (await (await send("?dry_run=true")).json()) as IngestFileResult;
    expect(dry).toMatchObject({ status: "loaded", loaded: 1, warnings: [{ kind: "sans_trace", count: 1 }] });
    const up = await send("");
    expect(up.status).toBe(202);
    const { import_id } = (await up.json()) as { import_id: number };
    await uploads.drain();
    const got = (await (await app.request(`/api/imports/${import_id}`, { headers: { cookie } })).json()) as {
      status: string;
      rows_loaded: number;
      message: string | null;
    };
    expect(got).toMatchObject({ status: "loaded", rows_loaded: 1 });
    expect(got.message).toMatch(/^aucune trace de mise à jour/);
  });

  it("imports from the inbox .json.gz, .ndjson and .csv.gz files, and says which it does not read", async ({
    db,
  }) => {
    const inbox = tempDir("cibles-inbox-");
    drop(inbox, "a.json.gz", gzipSync(SMALL.replaceAll("3340000017/u", "3340000017/inbox-u")));
    drop(inbox, "bulk/1.Patient.ndjson", ndjson([patient("q1", "inbox-q1")]));
    drop(inbox, "bulk/Encounter.ndjson", ndjson([sejour(40, { reference: "Patient/q1" })]));
    drop(inbox, "dossiers_z.csv.gz", gzipSync(csvRows(2, "inbox-z")));
    drop(inbox, "lisez-moi.txt", "note");
    const run = await runInboxOnce(db, { inboxDir: inbox, secret: SECRET });
    expect(run.files.map((f) => [f.file, f.status, f.moved_to])).toEqual([
      ["a.json.gz", "loaded", "processed/a.json.gz"],
      ["bulk/*.ndjson", "loaded", "processed/1.Patient.ndjson"],
      ["dossiers_z.csv.gz", "loaded", "processed/dossiers_z.csv.gz"],
      ["lisez-moi.txt", "unread", null],
    ]);
    expect(readFileSync(join(inbox, "processed", "Encounter.ndjson"), "utf8")).toContain("SEJOUR-40");
    copyFileSync(join(inbox, "processed", "a.json.gz"), join(inbox, "copie.json.gz"));
    utimesSync(join(inbox, "copie.json.gz"), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const second = await runInboxOnce(db, { inboxDir: inbox, secret: SECRET });
    expect(second.files.map((f) => [f.file, f.status])).toEqual([
      ["copie.json.gz", "skipped"],
      ["lisez-moi.txt", "unread"],
    ]);
  });
});
