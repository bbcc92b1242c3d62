/**
 * The ANS FINESS JSON feed that replaces the etalab extract (ADR 0014): the « flux
 * Structures » published on data.gouv.fr (ansforge/finess, `flux/out/data.gouv/structure/
 * schema-structures-v1.json`), `{ "pmej": [ { "informationsGeneralesPmej": { "numFinessPm", … },
 * "ege": [ { "informationsGeneralesEGE": { "numFinessEge", "nomEgeCourt", "nomEgeLong", … },
 * "categorieEntiteGeographiqueExercice", "etatObjet", "adresse": [ { "cogCommune", … } ] } ] } ] }`.
 *
 * The schema gives categories and states as codings (`{ "code", "system" }`, TRE_R397 and
 * TRE_R386 « macro état objet administratif »); the files published so far write the bare
 * code (`"categorieentiteGeographiqueExercice": "500"`, `"etatObjet": "A"`) and spell some keys
 * differently (`informationsGeneralesPMEJ`, `numFiness`): both are read, keys compared without
 * case. An EGE whose `etatObjet` is not `A` (actif) is closed.
 *
 * Streamed (`$.pmej.*`, one legal entity and its establishments at a time); rows are upserted
 * by batches in one transaction. The report is the extract's: establishments loaded, categories
 * filled, ESSMS of the referential missing from the feed, and those it says are closed.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";
import { createGunzip } from "node:zlib";
import { JSONParser } from "@streamparser/json";
import type { Db, Tx } from "../db/index.ts";
import { checkFiness } from "../domain/finess.ts";
import {
  fillCategories,
  missingFromReference,
  type ReferenceRow,
  upsertReference,
} from "../sql/finess-reference.ts";
import { knownFiness } from "../sql/programme.ts";
import { assertRegularFile } from "./csv.ts";
import { emptyFinessResult, type FinessExtractResult } from "./finess-result.ts";

/** The feed is read as a stream: bounded in size only against a runaway file. */
export const MAX_FEED_BYTES = 2 * 1024 * 1024 * 1024;
const BATCH = 10_000;

/** `*.json` or `*.json.gz`: the JSON feed rather than the etalab CSV extract. */
export function isFinessFeedName(path: string): boolean {
  const p = path.toLowerCase();
  return p.endsWith(".json") || p.endsWith(".json.gz");
}

type Json = Record<string, unknown>;
function obj(v: unknown): Json | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
}
/** A key of an object, compared without case (`informationsGeneralesPMEJ` ≡ `…Pmej`). */
function get(o: Json | null, key: string): unknown {
  if (!o) return undefined;
  if (key in o) return o[key];
  const k = key.toLowerCase();
  for (const [name, v] of Object.entries(o)) if (name.toLowerCase() === k) return v;
  return undefined;
}
/** A code written bare (`"500"`) or as a coding (`{ "code": "500", "system": … }`). */
function code(v: unknown): string | null {
  if (typeof v === "string") return v.trim() || null;
  const c = obj(v)?.code;
  return typeof c === "string" ? c.trim() || null : null;
}
function text(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v.trim() : null;
}

/** The département of a commune's COG code: 2 characters, 3 overseas (971…989). */
function departement(cog: string | null): string | null {
  if (!cog || cog.length < 2) return null;
  return cog.startsWith("97") || cog.startsWith("98") ? cog.slice(0, 3) : cog.slice(0, 2);
}

/** One EGE of the feed as a reference row, and whether it is closed; null without a valid FINESS. */
export function egeRow(ege: Json, finessEj: string | null): { row: ReferenceRow; closed: boolean } | null {
  const info = obj(get(ege, "informationsGeneralesEGE"));
  const c = checkFiness(text(get(info, "numFinessEge")) ?? "");
  if (!c.ok) return null;
  const addresses = get(ege, "adresse");
  const first = obj(Array.isArray(addresses) ? addresses[0] : null);
  const etat = code(get(ege, "etatObjet"));
  const closed = (etat !== null && etat.toUpperCase() !== "A") || text(get(info, "dateFermeture")) !== null;
  return {
    row: [
      c.finess,
      finessEj,
      text(get(info, "nomEgeCourt")) ?? text(get(info, "nomEgeLong")),
      code(get(ege, "categorieEntiteGeographiqueExercice")),
      // The feed carries codes only: the label comes from the nomenclature (finessCategoryLabel).
      null,
      departement(text(get(first, "cogCommune"))),
    ],
    closed,
  };
}

/** The legal entity's FINESS (EJ) of a `pmej` element. */
function finessEjOf(pmej: Json): string | null {
  const info = obj(get(pmej, "informationsGeneralesPmej"));
  const raw =
    text(get(info, "numFinessPm")) ?? text(get(pmej, "numFiness")) ?? text(get(pmej, "numFinessPm"));
  const c = checkFiness(raw ?? "");
  return c.ok ? c.finess : null;
}

/** The first two bytes: gzip's magic number says the file is a `.json.gz`. */
function isGzip(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

export async function importFinessFeed(db: Db, path: string): Promise<FinessExtractResult> {
  const base = emptyFinessResult(path);
  const refuse = (message: string, rows = 0): FinessExtractResult => ({
    ...base,
    rows,
    status: "refused",
    message,
  });
  let size: number;
  try {
    assertRegularFile(path);
    size = statSync(path).size;
  } catch (e) {
    return refuse((e as Error).message);
  }
  if (size === 0) return refuse("fichier vide");
  if (size > MAX_FEED_BYTES) return refuse("fichier trop volumineux pour le flux FINESS (2 Go au plus)");
  const gz = isGzip(path);
  const read: FeedRead = { essms: await knownFiness(db), closed: new Set(), pmej: 0, ege: 0, loaded: 0 };
  let filled = 0;
  try {
    await db.transaction(async (tx) => {
      await loadFeed(tx, path, gz, read);
      // Nothing loaded: the transaction rolls back (and the file is refused below).
      if (read.loaded === 0) throw new FeedRefused("");
      filled = await fillCategories(tx);
    });
  } catch (e) {
    if (!(e instanceof FeedRefused)) throw e;
    if (e.message !== "") return refuse(e.message);
    return refuse(
      read.pmej === 0
        ? "aucune structure (pmej) : est-ce bien le flux FINESS « Structures » (JSON) ?"
        : "aucun établissement (ege) avec un numéro FINESS valide dans le flux",
      read.ege,
    );
  }
  return {
    file: path,
    status: "loaded",
    rows: read.ege,
    loaded: read.loaded,
    missing_from_extract: await missingFromReference(db),
    closed_in_extract: [...read.closed].sort(),
    filled,
  };
}

/** What reading the feed counts: legal entities, establishments, rows loaded, ESSMS said closed. */
interface FeedRead {
  /** the referential's ESSMS */
  essms: ReadonlySet<string>;
  closed: Set<string>;
  pmej: number;
  ege: number;
  loaded: number;
}

/**
 * Streams the feed (`$.pmej.*`) into the reference table, by batches of BATCH rows; a syntax
 * error, a truncated document or a corrupt archive refuses the file (FeedRefused).
 */
async function loadFeed(tx: Tx, path: string, gz: boolean, read: FeedRead): Promise<void> {
  let batch: ReferenceRow[] = [];
  const parser = new JSONParser({ paths: ["$.pmej.*"], keepStack: false });
  parser.onValue = ({ value }) => {
    const pmej = obj(value);
    if (!pmej) return;
    read.pmej += 1;
    const ej = finessEjOf(pmej);
    const eges = get(pmej, "ege");
    for (const raw of Array.isArray(eges) ? eges : []) {
      const ege = obj(raw);
      if (!ege) continue;
      read.ege += 1;
      const r = egeRow(ege, ej);
      if (!r) continue;
      batch.push(r.row);
      if (r.closed && read.essms.has(r.row[0])) read.closed.add(r.row[0]);
    }
  };
  const file = createReadStream(path, { highWaterMark: 1 << 16 });
  // A `.json.gz` as published: decompressed as it is read.
  const stream: NodeJS.ReadableStream = gz ? file.pipe(createGunzip()) : file;
  if (gz) file.on("error", (e) => (stream as unknown as { destroy(e: Error): void }).destroy(e));
  let offset = 0;
  try {
    for await (const raw of stream as AsyncIterable<Buffer>) {
      if (feed(parser, raw, offset)) break;
      offset += raw.length;
      if (batch.length >= BATCH) {
        await upsertReference(tx, batch);
        read.loaded += batch.length;
        batch = [];
      }
    }
  } catch (e) {
    if (e instanceof FeedRefused || !gz) throw e;
    throw new FeedRefused("fichier .json.gz illisible (archive gzip corrompue ou tronquée)");
  }
  if (!parser.isEnded) {
    try {
      parser.end();
    } catch {
      throw new FeedRefused("fichier JSON illisible : document incomplet (fichier tronqué ?)");
    }
  }
  await upsertReference(tx, batch);
  read.loaded += batch.length;
}

class FeedRefused extends Error {}

/** Feeds a chunk to the parser; true once the document has ended. A syntax error refuses the file. */
function feed(parser: JSONParser, chunk: Buffer, offset: number): boolean {
  if (parser.isEnded) {
    if (chunk.toString("latin1").trim() !== "")
      throw new FeedRefused(`fichier JSON illisible (vers l'octet ${offset})`);
    return true;
  }
  try {
    parser.write(
      offset === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? chunk.subarray(3) : chunk,
    );
  } catch {
    // The library's message may quote the document: never passed on.
    throw new FeedRefused(
      `fichier JSON illisible (vers l'octet ${offset}) : flux FINESS « Structures » attendu`,
    );
  }
  return false;
}
