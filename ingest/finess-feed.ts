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
 * Streamed by the bounded reader (json-reader.ts, ADR 0023: `pmej` items one at a time, of each
 * only the members below, nesting bounded, work linear in the bytes); gzip or not (bounded by
 * MAX_FEED_BYTES decompressed and content.ts's ratio), UTF-8, Windows-1252 or UTF-16. Rows are
 * upserted by batches in one transaction. The report is the extract's: establishments loaded,
 * categories filled, ESSMS of the referential missing from the feed, and those it says are closed.
 */
import type { Db, Tx } from "../db/index.ts";
import { isDomainError } from "../domain/errors.ts";
import { checkFiness } from "../domain/finess.ts";
import {
  fillCategories,
  missingFromReference,
  type ReferenceRow,
  upsertReference,
} from "../sql/finess-reference.ts";
import { knownFiness } from "../sql/programme.ts";
import { type ContentLimits, type ContentProbe, contentChunks, probeContent, Utf8Feed } from "./content.ts";
import { emptyFinessResult, type FinessExtractResult } from "./finess-result.ts";
import { JsonReadError, JsonReader, MAX_JSON_DEPTH, type Pick } from "./json-reader.ts";

/** The feed is read as a stream: bounded in size (decompressed) only against a runaway file. */
export const MAX_FEED_BYTES = 2 * 1024 * 1024 * 1024;
const BATCH = 10_000;
/** The most bytes the part read of one `pmej` (a legal entity and its establishments) may weigh. */
const MAX_PMEJ_BYTES = 16 << 20;

// What is read of the feed (keys compared without case, kept under these spellings).
const S: Pick = { scalar: true };
/** A code written bare (`"500"`) or as a coding (`{ "code": "500", "system": … }`). */
const CODE: Pick = { scalar: true, keys: { code: S } };
const EGE: Pick = {
  keys: {
    informationsGeneralesEGE: { keys: { numFinessEge: S, nomEgeCourt: S, nomEgeLong: S, dateFermeture: S } },
    categorieEntiteGeographiqueExercice: CODE,
    etatObjet: CODE,
    adresse: { items: { keys: { cogCommune: S } } },
  },
};
const PMEJ: Pick = {
  keys: {
    informationsGeneralesPmej: { keys: { numFinessPm: S } },
    numFiness: S,
    numFinessPm: S,
    ege: { items: EGE },
  },
};
const FEED: Pick = { keys: { pmej: { items: PMEJ, stream: true } } };

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

export async function importFinessFeed(
  db: Db,
  path: string,
  limits: ContentLimits = { maxBytes: MAX_FEED_BYTES },
): Promise<FinessExtractResult> {
  const base = emptyFinessResult(path);
  const refuse = (message: string, rows = 0): FinessExtractResult => ({
    ...base,
    rows,
    status: "refused",
    message,
  });
  // One pass first: bounded (decompressed), its encoding told, before anything is stored.
  let probe: ContentProbe;
  try {
    probe = await probeContent({ path }, limits);
  } catch (e) {
    if (isDomainError(e, "file_refused")) return refuse(e.message);
    throw e;
  }
  if (probe.bytes === 0) return refuse("fichier vide");
  if (!probe.isText) return refuse("le fichier n'est pas un fichier texte (flux FINESS JSON attendu)");
  const read: FeedRead = { essms: await knownFiness(db), closed: new Set(), pmej: 0, ege: 0, loaded: 0 };
  let filled = 0;
  try {
    await db.transaction(async (tx) => {
      await loadFeed(tx, path, probe, limits, read);
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
 * Streams the feed (`pmej` items) into the reference table, by batches of BATCH rows; a syntax
 * error, a truncated document, nesting beyond MAX_JSON_DEPTH or a corrupt archive refuses the file
 * (FeedRefused), its position given as the byte offset in the file as stored and the JSON path.
 */
async function loadFeed(
  tx: Tx,
  path: string,
  probe: ContentProbe,
  limits: ContentLimits,
  read: FeedRead,
): Promise<void> {
  let batch: ReferenceRow[] = [];
  const reader = new JsonReader({
    pick: FEED,
    foldCase: true,
    maxItemBytes: MAX_PMEJ_BYTES,
    onItem: ({ value }) => {
      const pmej = obj(value);
      if (pmej) batch.push(...pmejRows(pmej, read));
    },
  });
  const utf8 = new Utf8Feed(probe.encoding);
  try {
    for await (const chunk of contentChunks({ path }, limits)) {
      reader.write(utf8.convert(chunk));
      if (batch.length >= BATCH) {
        await upsertReference(tx, batch);
        read.loaded += batch.length;
        batch = [];
      }
    }
    reader.write(utf8.flush());
    reader.end();
  } catch (e) {
    if (e instanceof JsonReadError) throw feedRefusal(e, probe.gzip ? null : utf8);
    if (isDomainError(e, "file_refused")) throw new FeedRefused(e.message);
    throw e;
  }
  await upsertReference(tx, batch);
  read.loaded += batch.length;
}

/** One `pmej` element's establishments as reference rows (the closed ones of the referential noted). */
function pmejRows(pmej: Json, read: FeedRead): ReferenceRow[] {
  read.pmej += 1;
  const ej = finessEjOf(pmej);
  const eges = get(pmej, "ege");
  const rows: ReferenceRow[] = [];
  for (const raw of Array.isArray(eges) ? eges : []) {
    const ege = obj(raw);
    if (!ege) continue;
    read.ege += 1;
    const r = egeRow(ege, ej);
    if (!r) continue;
    rows.push(r.row);
    if (r.closed && read.essms.has(r.row[0])) read.closed.add(r.row[0]);
  }
  return rows;
}

class FeedRefused extends Error {}

/** The reader's fault, in French, at its byte offset (in the file as stored; `null`: gzip content). */
function feedRefusal(e: JsonReadError, utf8: Utf8Feed | null): FeedRefused {
  const at = utf8
    ? `à l'octet ${utf8.storedOffset(e.offset)}`
    : `à l'octet ${e.offset} du contenu décompressé`;
  const where = `${at}${e.path ? ` (${e.path})` : ""}`;
  switch (e.fault) {
    case "vide":
      return new FeedRefused("fichier vide");
    case "incomplet":
      return new FeedRefused("fichier JSON illisible : document incomplet (fichier tronqué ?)");
    case "profondeur":
      return new FeedRefused(
        `fichier JSON refusé : plus de ${MAX_JSON_DEPTH} niveaux d'imbrication ${where} ; rien n'a été chargé`,
      );
    case "valeur_trop_grande":
      return new FeedRefused(
        `une structure (pmej) du flux dépasse ${MAX_PMEJ_BYTES >> 20} Mo ${where} : fichier refusé, rien n'a été chargé`,
      );
    case "liste_attendue":
      return new FeedRefused(
        "le champ pmej du flux doit être une liste : flux FINESS « Structures » attendu",
      );
    default:
      return new FeedRefused(`fichier JSON illisible ${where} : flux FINESS « Structures » attendu`);
  }
}
