/**
 * The ANS FINESS JSON feed (« flux Structures », ADR 0014) read by `finess import` as the etalab
 * extract is: the same report (loaded, categories filled, ESSMS missing), plus the ESSMS the feed
 * says are closed; streamed, gzip or not; a file that is not the feed refused in French.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { importFinessExtract } from "../../ingest/finess-extract.ts";
import { importReferential } from "../../ingest/programme.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { ROOT, tempDir, writeTemp } from "../support/helpers.ts";

const at = (...p: string[]) => join(ROOT, "fixtures", ...p);
const FEED = at("finess-feed", "finess-structures-mini.json");
const EXTRACT = at("real-world", "finess-extract", "etalab-cs1100507-stock-utf8-copy.csv");

async function freshReferential(db: Db): Promise<void> {
  await db.query("truncate finess_reference");
  await db.query("delete from essms");
  await db.query("delete from grappe");
  expect((await importReferential(db, at("real-world", "finess-extract", "referentiel.csv"))).status).toBe(
    "loaded",
  );
}

const reference = (db: Db) =>
  db.query<{
    finess: string;
    finess_ej: string | null;
    raison_sociale: string | null;
    categorie: string | null;
  }>("select finess, finess_ej, raison_sociale, categorie from finess_reference order by finess");
const categories = (db: Db) =>
  db.query<{ finess: string; categorie: string | null }>(
    "select finess, categorie from essms order by finess",
  );

describeOnBackends("FINESS JSON feed", { seed: "empty" }, () => {
  it("gives the same referential report as the equivalent etalab extract", async ({ db }) => {
    await freshReferential(db);
    const csv = await importFinessExtract(db, EXTRACT);
    const csvReference = await reference(db);
    const csvCategories = await categories(db);
    await freshReferential(db);
    const json = await importFinessExtract(db, FEED);
    const pick = (r: typeof csv) => ({
      status: r.status,
      loaded: r.loaded,
      filled: r.filled,
      missing: r.missing_from_extract,
      closed: r.closed_in_extract,
    });
    expect(pick(csv)).toEqual({ status: "loaded", loaded: 4, filled: 2, missing: ["340000033"], closed: [] });
    expect(pick(json)).toEqual(pick(csv));
    // The same establishments, legal entities, names and categories; the same categories filled.
    expect(await reference(db)).toEqual(csvReference);
    expect(await categories(db)).toEqual(csvCategories);
  });

  it("reports the referential's ESSMS that the feed says are closed, whatever the coding's shape", async ({
    db,
  }) => {
    await freshReferential(db);
    const feed = JSON.parse(readFileSync(FEED, "utf8"));
    feed.pmej[0].ege.push(
      {
        informationsGeneralesEGE: { numFinessEge: "340000033", nomEgeCourt: "SSIAD FERME" },
        categorieentiteGeographiqueExercice: "354",
        etatObjet: {
          code: "I",
          system: "https://mos.esante.gouv.fr/NOS/tre_r386-macro-etat-objet-administratif",
        },
      },
      // closed too, but not an ESSMS of the referential: not reported
      { informationsGeneralesEGE: { numFinessEge: "340000041" }, etatObjet: "I" },
    );
    const dir = tempDir();
    const plain = join(dir, "finess-structures.json");
    writeFileSync(plain, JSON.stringify(feed));
    const r = await importFinessExtract(db, plain);
    expect(r).toMatchObject({
      status: "loaded",
      loaded: 6,
      missing_from_extract: [],
      closed_in_extract: ["340000033"],
    });
    // The published .json.gz reads the same.
    await freshReferential(db);
    const gz = join(dir, "finess-structures.json.gz");
    writeFileSync(gz, gzipSync(JSON.stringify(feed)));
    const z = await importFinessExtract(db, gz);
    expect(z).toMatchObject({ status: "loaded", loaded: 6, closed_in_extract: ["340000033"], filled: 2 });
  });

  it("streams a large feed (60 000 establishments, upserted by batches of 10 000): every one loaded", async ({
    db,
  }) => {
    await freshReferential(db);
    const n = 60_000;
    const path = join(tempDir(), "finess-gros.json");
    const parts: string[] = ['{"pmej":['];
    for (let p = 0; p < n / 100; p++) {
      const eges = [];
      for (let e = 0; e < 100; e++) {
        const body = String(10_000_000 + p * 100 + e).padStart(8, "0");
        eges.push({
          informationsGeneralesEGE: {
            numFinessEge: luhnFiness(body),
            nomEgeCourt: `ETABLISSEMENT ${p}-${e}`,
          },
          categorieentiteGeographiqueExercice: "500",
          etatObjet: "A",
          adresse: [{ cogCommune: "34172" }],
        });
      }
      parts.push(
        `${p ? "," : ""}${JSON.stringify({ informationsGeneralesPmej: { numFinessPm: "340000025" }, ege: eges })}`,
      );
    }
    parts.push("]}");
    writeFileSync(path, parts.join(""));
    const r = await importFinessExtract(db, path);
    expect(r.status).toBe("loaded");
    expect(r.loaded).toBe(n);
    const [row] = await db.query<{ n: number }>("select count(*)::int as n from finess_reference");
    expect(row?.n).toBe(n);
  });

  it("refuses in French a JSON file that is not the feed, and a truncated one, loading nothing", async ({
    db,
  }) => {
    await freshReferential(db);
    const notFeed = await importFinessExtract(
      db,
      writeTemp("autre.json", JSON.stringify({ resourceType: "Bundle" })),
    );
    expect(notFeed.status).toBe("refused");
    expect(notFeed.message).toMatch(/aucune structure \(pmej\)/);
    const truncated = readFileSync(FEED, "utf8").slice(0, 600);
    const cut = await importFinessExtract(db, writeTemp("coupe.json", truncated));
    expect(cut.status).toBe("refused");
    expect(cut.message).toMatch(/^fichier JSON illisible/);
    const garbage = await importFinessExtract(db, writeTemp("faux.json", "structureet;340000017;…"));
    expect(garbage.status).toBe("refused");
    expect(garbage.message).toMatch(/^fichier JSON illisible/);
    const [row] = await db.query<{ n: number }>("select count(*)::int as n from finess_reference");
    expect(row?.n).toBe(0);
  });
});

/** A FINESS from 8 digits and its Luhn check digit. */
function luhnFiness(body: string): string {
  for (let d = 0; d < 10; d++) {
    const s = `${body}${d}`;
    let sum = 0;
    for (let i = 0; i < 9; i++) {
      let v = Number(s[8 - i]);
      if (i % 2 === 1) {
        v *= 2;
        if (v > 9) v -= 9;
      }
      sum += v;
    }
    if (sum % 10 === 0) return s;
  }
  throw new Error("inaccessible");
}
