/**
 * The importer reads, stages and merges a file in chunks of rows (ADR 0007). On both backends:
 * a file cut into chunks of two rows gives exactly the facts of the same file in one chunk
 * (last row of a key wins across chunks, every update trace kept, usagers registered once per
 * file even when their numbering restarts), and a file refused after some chunks were merged
 * leaves nothing behind.
 */
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect } from "vitest";
import type { Db } from "../../db/index.ts";
import type { Kind } from "../../ingest/kinds.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { pseudonymise } from "../../ingest/pseudonym.ts";
import type { IngestOptions } from "../../ingest/result.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { count, exportHeader, keyed, resetFacts, SECRET, writeTemp } from "../support/helpers.ts";

/** One export per kind, keys repeated far apart (rows 1 and 5+) so that they straddle chunks. */
const FILES: [Kind, string[]][] = [
  [
    "dossiers",
    [
      "340000017;u1;2024-01-01;;;2025-04-10;s1",
      "340000017;u2;2024-02-01;;;2025-05-10;",
      "310000039;u1;2024-03-01;;;2025-05-11;s9",
      "340000017;u3;2024-01-01;;;2025-06-01;",
      "340000017;u1;2024-01-01;2025-07-01;;2025-07-02;s1",
      "340000017;u2;2024-02-01;;;2025-05-20;",
      "340000017;u4;2024-05-01;2024-04-01;;;",
    ],
  ],
  ["dossier_maj", ["340000017;u1;2025-05-03", "340000017;u9;2025-05-04", "340000017;u1;2025-05-03"]],
  [
    "projets_personnalises",
    [
      "340000017;u1;p1;en cours;;;;2025-05-01",
      "340000017;u2;p2;ENCOURS;;;;2025-05-02",
      "340000017;u3;p3;ENCOURS;;;;",
      "340000017;u2;p4;brouillon;;;;2025-05-03",
      "340000017;u5;p1;TERMINE;;;;2025-06-01",
    ],
  ],
  [
    "agenda",
    [
      "340000017;u1;e1;2025-05-01 10:00;;PLANIFIE;visite;",
      "340000017;u2;e2;2025-05-02;;réalisé;;",
      "310000039;u2;e1;2025-05-03;;annulé;;",
      "340000017;u3;e3;2025-05-04;;PLANIFIE;;",
      "340000017;u1;e4;pas une date;;PLANIFIE;;",
      "340000017;u6;e1;2025-06-09T23:30:00Z;;TERMINE;;2025-06-10",
      "340000017;u2;e2;2025-05-02;;ANNULE;;",
    ],
  ],
  [
    "mss",
    [
      "340000017;m1;2025-05-01;ENVOYE;;u1;",
      "340000017;m2;2025-05-02;RECU;;;",
      "340000017;m3;2025-05-03;envoyé;échec;u2;",
      "340000017;m1;2025-05-05;ENVOYE;OK;;dest",
    ],
  ],
  [
    "dmp",
    [
      "340000017;d1;u1;2025-05-01;;",
      "340000017;d2;u2;2025-05-02;erreur;",
      "340000017;d3;u1;2025-05-03;;",
      "340000017;d1;u3;2025-05-06;supprimé;CR",
    ],
  ],
  ["eparcours", ["340000017;x1;2025-05-01", "340000017;x2;2025-05-02", "340000017;x1;2025-05-09"]],
];

/** Every fact table, usagers by pseudonym (their integer keys depend on the loading order). */
const DUMPS = {
  sejour: `select s.finess, u.pseudonym, s.sejour_key, s.date_entree, s.date_sortie, s.date_creation, s.date_derniere_maj
           from sejour s join usager u using (usager) order by 1, 2, 3`,
  update_trace:
    "select t.finess, u.pseudonym, t.day from update_trace t join usager u using (usager) order by 1, 2, 3",
  projet_personnalise: `select p.finess, p.pp_id, u.pseudonym, p.statut, p.date_maj
           from projet_personnalise p join usager u using (usager) order by 1, 2`,
  agenda_event: `select a.finess, a.evenement_id, u.pseudonym, a.date_debut, a.statut, a.type, a.date_maj
           from agenda_event a join usager u using (usager) order by 1, 2`,
  mss_message: `select m.finess, m.message_id, m.date_envoi, m.sens, m.statut, u.pseudonym
           from mss_message m left join usager u using (usager) order by 1, 2`,
  dmp_document: `select d.finess, d.document_id, u.pseudonym, d.date_depot, d.statut, d.type_document
           from dmp_document d join usager u using (usager) order by 1, 2`,
  optional_event: "select finess, kind, event_id, day from optional_event order by 1, 2, 3",
  usager_month: `select m.finess, u.pseudonym, m.month, m.trace_dossier, m.trace_pp, m.trace_agenda, m.agenda, m.dmp
           from usager_month m join usager u using (usager) order by 1, 2, 3`,
  usager: "select finess, pseudonym from usager order by 1, 2",
};

const pseudo = (finess: string, id: string) => pseudonymise(SECRET, finess, id);

describeOnBackends("chunked import", { seed: "referential", reset: true }, (backend) => {
  const ingest = (db: Db, kind: Kind, rows: readonly string[], tuning: Partial<IngestOptions> = {}) => {
    const name = `${kind}_chunks.csv`;
    const path = writeTemp(name, [exportHeader(kind), ...rows].join("\n"));
    return ingestFile(db, { path }, name, { secret: SECRET, importDay: "2025-08-01", ...tuning });
  };

  async function dump(db: Db): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const [table, sql] of Object.entries(DUMPS)) out[table] = await db.query(sql);
    return out;
  }

  /** Loads the files (of `kinds`: all by default) with these settings; returns the import results and the facts. */
  async function loadAll(db: Db, tuning: Partial<IngestOptions>, kinds?: readonly Kind[]) {
    await resetFacts(db);
    const results = [];
    for (const [kind, rows] of FILES.filter(([k]) => kinds?.includes(k) ?? true)) {
      const r = await ingest(db, kind, rows, tuning);
      results.push({ kind, status: r.status, rows: r.rows, loaded: r.loaded, errors: r.errors });
    }
    return { results, facts: await dump(db) };
  }

  it("gives the facts of a one-chunk import when cut into chunks of two rows", async ({ db }) => {
    const whole = await loadAll(db, {});
    const chunked = await loadAll(db, { chunkRows: 2 });
    expect(chunked).toEqual(whole);
    // …and those facts are the expected ones, not just equal ones.
    expect(whole.results.every((r) => r.status === "loaded")).toBe(true);
    expect(whole.results.find((r) => r.kind === "agenda")?.errors).toEqual([
      {
        line: 6,
        column: "date_debut",
        message: expect.stringMatching(/^date illisible : formats attendus/),
        reason: "horodatage_illisible",
        finess: expect.any(String),
      },
    ]);
    expect(whole.results.find((r) => r.kind === "dossiers")?.errors).toEqual([
      {
        line: 8,
        column: "date_sortie",
        message: "date de sortie antérieure à la date d'entrée",
        reason: "sortie_avant_entree",
        finess: expect.any(String),
      },
    ]);
    const facts = chunked.facts;
    // The last row of a key wins, rows 1 and 6 of the agenda being in different chunks.
    expect(facts.agenda_event).toContainEqual(
      expect.objectContaining({
        finess: "340000017",
        evenement_id: keyed("evenement", "340000017", "e1"),
        pseudonym: pseudo("340000017", "u6"),
      }),
    );
    expect(facts.agenda_event).toContainEqual(
      expect.objectContaining({
        finess: "340000017",
        evenement_id: keyed("evenement", "340000017", "e2"),
        statut: "ANNULE",
      }),
    );
    expect(facts.mss_message).toContainEqual(
      expect.objectContaining({
        message_id: keyed("message", "340000017", "m1"),
        pseudonym: null,
        date_envoi: "2025-05-05",
      }),
    );
    expect(facts.dmp_document).toContainEqual(
      expect.objectContaining({
        document_id: keyed("document", "340000017", "d1"),
        pseudonym: pseudo("340000017", "u3"),
        statut: "SUPPRIME",
      }),
    );
    expect(facts.optional_event).toContainEqual(
      expect.objectContaining({ event_id: keyed("eparcours", "340000017", "x1"), day: "2025-05-09" }),
    );
    // R-P3: both date_derniere_maj of séjour s1 (rows 1 and 5) stay traces.
    expect(
      (facts.update_trace as { pseudonym: string; day: string }[])
        .filter((t) => t.pseudonym === pseudo("340000017", "u1"))
        .map((t) => t.day),
    ).toEqual(["2025-04-10", "2025-05-03", "2025-07-02"]);
    // Usagers: one per (FINESS, DUI id), whatever the chunk that met them first.
    expect(facts.usager).toHaveLength(new Set((facts.usager as object[]).map((u) => JSON.stringify(u))).size);
    expect(facts.usager).toContainEqual({ finess: "310000039", pseudonym: pseudo("310000039", "u1") });
  });

  describe("merges each chunk the cheapest way the data allows (ADR 0008)", () => {
    const event = (id: string, statut: string, usager = "u1") =>
      `340000017;${usager};${id};2025-05-02;;${statut};;`;
    /** Imports the rows; returns how each chunk was merged, and the events' statut by id. */
    async function merged(db: Db, rows: string[], chunkRows?: number) {
      const modes: string[] = [];
      const r = await ingest(db, "agenda", rows, {
        ...(chunkRows ? { chunkRows } : {}),
        onChunkMerged: (m) => {
          modes.push(`${m.upsert ? "upsert" : "insert"}${m.repeatedKeys ? "+distinct" : ""}`);
        },
      });
      expect(r.status).toBe("loaded");
      const events = await db.query<{ evenement_id: string; statut: string; pseudonym: string }>(
        `select a.evenement_id, a.statut, u.pseudonym from agenda_event a join usager u using (usager)
           order by 1`,
      );
      // The stored keys read back as the ids of the rows (ADR 0027: ids are keyed before they are stored).
      const ids = new Map(
        Array.from({ length: 10 }, (_, i) => `e${i}`).map((id) => [keyed("evenement", "340000017", id), id]),
      );
      for (const e of events) e.evenement_id = ids.get(e.evenement_id) ?? e.evenement_id;
      return { modes, statut: Object.fromEntries(events.map((e) => [e.evenement_id, e.statut])), events };
    }

    it("plain inserts for a first import of distinct keys", async ({ db }) => {
      const r = await merged(db, [event("e1", "PLANIFIE"), event("e2", "VALIDE"), event("e3", "ANNULE")], 2);
      expect(r.modes).toEqual(["insert", "insert"]);
      expect(r.statut).toEqual({ e1: "PLANIFIE", e2: "VALIDE", e3: "ANNULE" });
    });

    it("upserts from the chunk that meets a key already loaded: the last import wins", async ({ db }) => {
      await merged(db, [event("e1", "PLANIFIE"), event("e2", "VALIDE")]);
      const r = await merged(
        db,
        [event("e0", "PLANIFIE"), event("e9", "VALIDE"), event("e2", "TERMINE", "u2")],
        2,
      );
      // The first chunk holds new keys only; the second meets e2, and its savepoint is undone.
      expect(r.modes).toEqual(["insert", "upsert"]);
      expect(r.statut).toEqual({ e0: "PLANIFIE", e1: "PLANIFIE", e2: "TERMINE", e9: "VALIDE" });
      expect(r.events.find((e) => e.evenement_id === "e2")?.pseudonym).toBe(pseudo("340000017", "u2"));
      expect(await count(db, "agenda_event")).toBe(4);
    });

    it("keeps a chunk's last row of a repeated key, and sorts from then on", async ({ db }) => {
      const r = await merged(
        db,
        [event("e1", "PLANIFIE"), event("e2", "VALIDE"), event("e1", "ANNULE", "u3"), event("e4", "VALIDE")],
        3,
      );
      expect(r.modes).toEqual(["upsert+distinct", "upsert+distinct"]);
      expect(r.statut).toEqual({ e1: "ANNULE", e2: "VALIDE", e4: "VALIDE" });
      expect(r.events.find((e) => e.evenement_id === "e1")?.pseudonym).toBe(pseudo("340000017", "u3"));
    });

    it("upserts without sorting when a key repeats across chunks only", async ({ db }) => {
      const r = await merged(db, [event("e1", "PLANIFIE"), event("e2", "VALIDE"), event("e1", "TERMINE")], 2);
      expect(r.modes).toEqual(["insert", "upsert"]);
      expect(r.statut).toEqual({ e1: "TERMINE", e2: "VALIDE" });
    });

    it("undoes a failed plain insert whole: a dossier's séjours and traces are merged once", async ({
      db,
    }) => {
      const dossier = (usager: string, maj: string) => `340000017;${usager};2024-01-01;;;${maj};s1`;
      await ingest(db, "dossiers", [dossier("u1", "2025-05-01")]);
      const modes: boolean[] = [];
      const r = await ingest(db, "dossiers", [dossier("u2", "2025-05-02"), dossier("u1", "2025-06-01")], {
        onChunkMerged: (m) => {
          modes.push(m.upsert);
        },
      });
      expect(r.loaded).toBe(2);
      expect(modes).toEqual([true]);
      expect(await count(db, "sejour")).toBe(2);
      expect(await count(db, "update_trace")).toBe(3);
    });
  });

  describe("keeps every rejection in bounded memory (temporary file beyond a threshold)", () => {
    const spills = () => readdirSync(tmpdir()).filter((f) => f.startsWith("cibles-rejets-"));
    const rowsWith = (bad: number) =>
      Array.from({ length: 100 }, (_, i) =>
        i % Math.floor(100 / bad) === 0 && i / Math.floor(100 / bad) < bad
          ? `340000017;u${i};e${i};2025-05-01;;statut${i};;`
          : `340000017;u${i};e${i};2025-05-01;;PLANIFIE;;`,
      );
    const logged = (db: Db, importId: number | undefined) =>
      db.query<{ line: number; column_name: string; message: string }>(
        "select line, column_name, message from import_rejection where import_id = $1 order by line",
        [importId],
      );

    it("records the same log for a loaded file, spilled or not, and removes the file", async ({ db }) => {
      const before = spills();
      const kept = await ingest(db, "agenda", rowsWith(15));
      const keptLog = await logged(db, kept.import_id);
      await resetFacts(db);
      const spilled = await ingest(db, "agenda", rowsWith(15), { rejectionsInMemory: 4 });
      expect(spilled.status).toBe("loaded");
      expect([spilled.loaded, spilled.rejected]).toEqual([85, 15]);
      expect(spilled.errors).toEqual(kept.errors);
      const log = await logged(db, spilled.import_id);
      expect(log).toHaveLength(15);
      expect(log).toEqual(keptLog);
      expect(log[1]).toEqual({
        line: 8,
        column_name: "statut",
        message: expect.stringMatching(/^valeur non reconnue \(statut : valeurs acceptées/),
      });
      expect(spills()).toEqual(before);
    });

    it("records every rejection of a refused file, and only the first 1 000 in its result", async ({
      db,
    }) => {
      const before = spills();
      const rows = Array.from({ length: 1500 }, (_, i) => `340000017;u${i};e${i};2025-05-01;;inconnu;;`);
      const r = await ingest(db, "agenda", rows, { rejectionsInMemory: 100 });
      expect(r.status).toBe("refused");
      expect(r.rejected).toBe(1500);
      expect(r.errors).toHaveLength(1000);
      expect(r.errors_truncated).toBe(true);
      const log = await logged(db, r.import_id);
      expect(log.map((e) => e.line)).toEqual(Array.from({ length: 1500 }, (_, i) => i + 2));
      expect(await count(db, "agenda_event")).toBe(0);
      expect(spills()).toEqual(before);
    });
  });

  describe("reads in a worker thread as in the importing thread (ADR 0008)", () => {
    it("gives the same results and facts, chunk by chunk", async ({ db }) => {
      // The worker runs the same `readChunks` whatever the kind (the kind is in its plan): three
      // kinds cover what differs, new usagers straddling chunks (dossiers), a rejected row and a
      // key repeated across chunks (agenda), rows without usager (eparcours). A worker started from
      // the sources registers tsx and loads its modules again: ~1 s each under the suite's load.
      const kinds: Kind[] = ["dossiers", "agenda", "eparcours"];
      const inThread = await loadAll(db, { chunkRows: 2, readInWorker: false }, kinds);
      const inWorker = await loadAll(db, { chunkRows: 2, readInWorker: true }, kinds);
      expect(inWorker.results.map((r) => r.kind)).toEqual(kinds);
      expect(inWorker).toEqual(inThread);
      expect(inWorker.results.every((r) => r.status === "loaded")).toBe(true);
    });

    it("hands over its rejection log, spilled or not, and removes the temporary file", async ({ db }) => {
      const before = readdirSync(tmpdir()).filter((f) => f.startsWith("cibles-rejets-"));
      const rows = Array.from({ length: 40 }, (_, i) =>
        i % 8 === 0
          ? `340000017;u${i};e${i};2025-05-01;;statut${i};;`
          : `340000017;u${i};e${i};2025-05-01;;VALIDE;;`,
      );
      const r = await ingest(db, "agenda", rows, { readInWorker: true, chunkRows: 3, rejectionsInMemory: 2 });
      expect([r.status, r.loaded, r.rejected]).toEqual(["loaded", 35, 5]);
      const log = await db.query<{ line: number }>(
        "select line from import_rejection where import_id = $1 order by line",
        [r.import_id],
      );
      expect(log.map((e) => e.line)).toEqual([2, 10, 18, 26, 34]);
      expect(r.errors.map((e) => e.line)).toEqual([2, 10, 18, 26, 34]);
      expect(readdirSync(tmpdir()).filter((f) => f.startsWith("cibles-rejets-"))).toEqual(before);
    });

    it("refuses the file whole when its CSV breaks after merged chunks", async ({ db }) => {
      const good = Array.from({ length: 9 }, (_, i) => `340000017;u${i};e${i};2025-05-01;;PLANIFIE;;`);
      const r = await ingest(db, "agenda", [...good, '340000017;u1;"e99;2025-05-01;;PLANIFIE;;'], {
        chunkRows: 2,
        readInWorker: true,
      });
      expect(r.status).toBe("refused");
      expect(r.message).toMatch(/guillemet non fermé/);
      expect(await count(db, "agenda_event")).toBe(0);
    });

    it("reads an uploaded file (bytes, not a path)", async ({ db }) => {
      const rows = Array.from({ length: 5 }, (_, i) => `340000017;u${i};e${i};2025-05-01;;VALIDE;;`);
      const buffer = Buffer.from([exportHeader("agenda"), ...rows].join("\n"));
      const r = await ingestFile(db, { buffer }, "agenda_upload.csv", {
        secret: SECRET,
        importDay: "2025-08-01",
        readInWorker: true,
        chunkRows: 2,
      });
      expect([r.status, r.loaded]).toEqual(["loaded", 5]);
      expect(await count(db, "agenda_event")).toBe(5);
    });
  });

  it("maps every row to its usager when the file's usager numbering restarts", async ({ db }) => {
    const rows = Array.from(
      { length: 30 },
      (_, i) => `340000017;u${i % 7};e${i};2025-05-${String((i % 28) + 1).padStart(2, "0")};;PLANIFIE;;`,
    );
    const whole = await ingest(db, "agenda", rows);
    expect(whole.status).toBe("loaded");
    const expected = await dump(db);
    await resetFacts(db);
    const restarted = await ingest(db, "agenda", rows, { chunkRows: 4, maxFileUsagers: 3 });
    expect(restarted.loaded).toBe(30);
    expect(await dump(db)).toEqual(expected);
    expect(await count(db, "usager")).toBe(7);
  });

  if (backend === "pg") {
    it("holds its FINESS' locks from the first chunk that meets them until it commits", async ({ db }) => {
      const rows = [
        "340000017;u1;e1;2025-05-01;;PLANIFIE;;",
        "340000017;u2;e2;2025-05-02;;PLANIFIE;;",
        "310000039;u1;e3;2025-05-03;;PLANIFIE;;",
      ];
      // Seen from another session while the import is between chunks: the buckets of
      // lock_finess (727002, hashtext(finess) & 255) held in this database (other test files
      // import the same FINESS into their own databases on the same server, at the same time).
      const held: string[][] = [];
      const r = await ingest(db, "agenda", rows, {
        chunkRows: 2,
        onChunkMerged: async () => {
          const locks = await db.query<{ finess: string }>(
            `select f.finess from unnest(array['340000017', '310000039']) as f(finess)
               join pg_locks l on l.locktype = 'advisory' and l.classid = 727002 and l.objsubid = 2
                 and l.database = (select oid from pg_database where datname = current_database())
                 and l.objid = (hashtext(f.finess) & 255) and l.granted
               order by 1`,
          );
          held.push(locks.map((l) => l.finess));
        },
      });
      expect(r.status).toBe("loaded");
      expect(held).toEqual([["340000017"], ["310000039", "340000017"]]);
    });

    it("two concurrent imports meeting two FINESS in opposite orders both load, one after the other", async ({
      db,
    }) => {
      const rows = (finess: string, tag: string) =>
        Array.from({ length: 6 }, (_, i) => `${finess};u${i};e${i};2025-05-0${i + 1};;PLANIFIE;${tag};`);
      const write = (name: string, lines: string[]) =>
        writeTemp(name, [exportHeader("agenda"), ...lines].join("\n"));
      const one = write("agenda_1.csv", [...rows("340000017", "un"), ...rows("310000039", "un")]);
      const two = write("agenda_2.csv", [...rows("310000039", "deux"), ...rows("340000017", "deux")]);
      const opts = { secret: SECRET, importDay: "2025-08-01", chunkRows: 2 };
      const results = await Promise.all([
        ingestFile(db, { path: one }, "agenda_1.csv", opts),
        ingestFile(db, { path: two }, "agenda_2.csv", opts),
      ]);
      expect(results.map((r) => [r.status, r.loaded])).toEqual([
        ["loaded", 12],
        ["loaded", 12],
      ]);
      // Serialised: every event holds the values of the import that committed last.
      const held = await db.query<{ type: string; imports: number; n: number }>(
        "select min(type) as type, count(distinct import_id)::int as imports, count(*)::int as n from agenda_event",
      );
      expect(held[0]).toMatchObject({ imports: 1, n: 12 });
      expect(await count(db, "import where status = 'loaded'")).toBe(2);
      expect(await count(db, "import where status = 'failed'")).toBe(0);
      expect(await count(db, "usager")).toBe(12);
    });
  }

  it("refuses the whole file and loads nothing when its CSV breaks after merged chunks", async ({ db }) => {
    const good = Array.from({ length: 9 }, (_, i) => `340000017;u${i};e${i};2025-05-01;;PLANIFIE;;`);
    const r = await ingest(db, "agenda", [...good, '340000017;u1;"e99;2025-05-01;;PLANIFIE;;'], {
      chunkRows: 2,
    });
    expect(r.status).toBe("refused");
    expect(r.message).toMatch(/guillemet non fermé/);
    for (const table of ["agenda_event", "usager", "usager_month", "import where status = 'loaded'"])
      expect(await count(db, table)).toBe(0);
  });

  it("refuses the whole file and loads nothing when its last chunks push the rejections over 20 %", async ({
    db,
  }) => {
    const good = Array.from({ length: 6 }, (_, i) => `340000017;u${i};e${i};2025-05-01;;PLANIFIE;;`);
    const bad = Array.from({ length: 3 }, (_, i) => `340000017;u${i};f${i};2025-05-01;;inconnu;;`);
    const r = await ingest(db, "agenda", [...good, ...bad], { chunkRows: 2 });
    expect(r.status).toBe("refused");
    expect(r.rejected).toBe(3);
    expect(r.message).toMatch(/plus de 20 %/);
    for (const table of ["agenda_event", "usager", "usager_month", "import where status = 'loaded'"])
      expect(await count(db, table)).toBe(0);
  });
});
