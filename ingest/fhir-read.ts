/**
 * FHIR resources read from a TDDUI Bundle (`*.json`) or from FHIR Bulk Data NDJSON files
 * (`Encounter.ndjson`, `1.Patient.ndjson`: one resource per line), gzip or not, in UTF-8,
 * Windows-1252 or UTF-16 (exports.md §1 and §6, ADR 0014 and 0023), by the bounded reader of
 * json-reader.ts: one entry at a time, and of each entry only what the TDDUI mapping reads
 * (`RESOURCE`): a resource the product does not map, or a member it does not read, is scanned
 * and dropped whatever its size. A repeated key in what is read is told with its path; a fault
 * refuses the file with its byte offset in the file as stored and its JSON path.
 */
import { type ContentLimits, contentChunks, type Encoding, Utf8Feed } from "./content.ts";
import {
  type JsonItem,
  JsonReadError,
  JsonReader,
  MAX_JSON_DEPTH,
  MAX_TRACKED_KEYS,
  type Pick,
} from "./json-reader.ts";
import type { FileSource } from "./result.ts";

/** A file refused whole (nothing of it is loaded), with its French reason. */
export class BundleRefused extends Error {}

/** The most bytes the part read of one entry (or of the Bundle's own fields) may weigh (16 MB). */
export const MAX_VALUE_BYTES = 16 << 20;

type Json = Record<string, unknown>;

// What the TDDUI mapping (fhir-rows.ts) reads of a resource: nothing else is built.
const S: Pick = { scalar: true };
const CODING: Pick = { keys: { system: S, code: S } };
const CODEABLE: Pick = { keys: { coding: { items: CODING }, text: S } };
const IDENTIFIER: Pick = { keys: { system: S, value: S, type: CODEABLE } };
const REFERENCE: Pick = { keys: { reference: S, type: S, identifier: IDENTIFIER } };
const META: Pick = { keys: { profile: { items: S }, lastUpdated: S } };
const RESOURCE_FIELDS: Record<string, Pick> = {
  resourceType: S,
  id: S,
  meta: META,
  identifier: { items: IDENTIFIER },
  status: S,
  subject: REFERENCE,
  serviceProvider: REFERENCE,
  partOf: REFERENCE,
  period: { keys: { start: S, end: S } },
  type: { items: CODEABLE },
  created: S,
};
/** A resource contained in another (`#id`): read as any resource, but holds none itself. */
const CONTAINED: Pick = { keys: RESOURCE_FIELDS };
export const RESOURCE: Pick = { keys: { ...RESOURCE_FIELDS, contained: { items: CONTAINED } } };
const ENTRY: Pick = { keys: { fullUrl: S, resource: RESOURCE } };
/** The Bundle's own fields: every one checked for repeats; its entries streamed one by one. */
const BUNDLE: Pick = {
  allKeys: true,
  keys: { resourceType: S, meta: META, entry: { items: ENTRY, stream: true } },
};

/** One stored file of a FHIR source, as its probe found it. */
export interface FhirFile {
  src: FileSource;
  /** its name as the person gave it (relative to the folder) */
  label: string;
  encoding: Encoding;
  /** gzip: positions are in its decompressed content */
  gzip: boolean;
}

/** A TDDUI Bundle, or the NDJSON files of one FHIR bulk export (read as one Bundle's entries). */
export type FhirSource = { form: "bundle"; file: FhirFile } | { form: "ndjson"; files: FhirFile[] };

/** One resource read: where it is, and the part of it the mapping reads. */
export interface Entry {
  /** its entry's index (`entry[i]`), or its line in its NDJSON file */
  index: number;
  /** JSON path of the resource: `entry[3].resource`, or `Encounter.ndjson[12]` */
  base: string;
  fullUrl: string | null;
  resource: Json | null;
  /** JSON path of the first repeated key in what is read of this entry, or null */
  duplicate: string | null;
}

/** The Bundle's own fields read (its resourceType and meta), as soon as they are. */
export interface BundleTop {
  resourceType?: unknown;
  meta?: unknown;
}

function obj(v: unknown): Json | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
}

/**
 * Where a fault is, for the person: the byte offset in the file as stored (in its decompressed
 * content for a gzip file), the file's name when a source has several, and the JSON path.
 */
function place(e: JsonReadError, feed: Utf8Feed, file: FhirFile, named: boolean): string {
  const of = named ? ` de ${file.label}` : "";
  const at = file.gzip
    ? `à l'octet ${e.offset} du contenu décompressé${of}`
    : `à l'octet ${feed.storedOffset(e.offset)}${of}`;
  return `${at}${e.path ? ` (${e.path})` : ""}`;
}

/** A reader's fault as the refusal of the file, in French, never quoting the file. */
function refusal(
  e: JsonReadError,
  feed: Utf8Feed,
  file: FhirFile,
  what: string,
  named: boolean,
): BundleRefused {
  const where = place(e, feed, file, named);
  switch (e.fault) {
    case "vide":
      return new BundleRefused("fichier vide");
    case "incomplet":
      return new BundleRefused("fichier JSON illisible : document incomplet (fichier tronqué ?)");
    case "profondeur":
      return new BundleRefused(
        `fichier JSON refusé : plus de ${MAX_JSON_DEPTH} niveaux d'imbrication ${where} (une ressource FHIR en a bien moins) ; rien n'a été chargé`,
      );
    case "valeur_trop_grande":
      return new BundleRefused(
        `une entrée du Bundle (ou une autre valeur lue du fichier) dépasse ${MAX_VALUE_BYTES >> 20} Mo ${where} : fichier refusé, rien n'a été chargé`,
      );
    case "trop_de_cles":
      return new BundleRefused(
        `plus de ${MAX_TRACKED_KEYS} champs au premier niveau du fichier ${where} : fichier refusé, rien n'a été chargé`,
      );
    case "liste_attendue":
      return new BundleRefused(
        "le champ entry du Bundle doit être une liste : seuls les Bundles TDDUI sont lus",
      );
    default:
      return new BundleRefused(`fichier JSON illisible ${where} : ${what}`);
  }
}

/** Bytes of content per read: each costs a bounded time (the event loop turns between them). */
const READ_BYTES = 1 << 16;

/**
 * A file's JSON read by `reader`, its items handed over after each chunk (a batch may be empty);
 * `stop` ends the reading early (a document that is not a Bundle). Faults refuse the file.
 */
async function* readFile(
  file: FhirFile,
  reader: JsonReader,
  pending: JsonItem[],
  limits: ContentLimits,
  what: string,
  named: boolean,
  stop: () => boolean = () => false,
): AsyncGenerator<JsonItem[]> {
  const feed = new Utf8Feed(file.encoding);
  try {
    for await (const chunk of contentChunks(file.src, limits, READ_BYTES)) {
      reader.write(feed.convert(chunk));
      yield pending.splice(0);
      if (stop()) return;
    }
    reader.write(feed.flush());
    reader.end();
    yield pending.splice(0);
  } catch (e) {
    if (e instanceof JsonReadError) throw refusal(e, feed, file, what, named);
    throw e;
  }
}

/**
 * The Bundle's entries in document order, a few at a time; its `resourceType` and `meta` go to
 * `top` as soon as they are read (a document that is not a Bundle is not read further). A key
 * repeated among the Bundle's own fields refuses the file; one repeated in an entry is told by
 * its `duplicate`.
 */
export async function* bundleEntries(
  file: FhirFile,
  top: BundleTop,
  limits: ContentLimits = {},
): AsyncGenerator<Entry[]> {
  const pending: JsonItem[] = [];
  const reader = new JsonReader({
    pick: BUNDLE,
    maxItemBytes: MAX_VALUE_BYTES,
    onItem: (item) => pending.push(item),
  });
  const seeTop = () => {
    const t = obj(reader.value);
    if (t && "resourceType" in t) top.resourceType = t.resourceType;
    if (t && "meta" in t) top.meta = t.meta;
    return top.resourceType !== undefined && top.resourceType !== "Bundle";
  };
  for await (const items of readFile(
    file,
    reader,
    pending,
    limits,
    "un fichier .json doit être un Bundle FHIR TDDUI",
    false,
    seeTop,
  )) {
    if (items.length > 0)
      yield items.map((it) => {
        const e = obj(it.value);
        return {
          index: it.index,
          base: `entry[${it.index}].resource`,
          fullUrl: typeof e?.fullUrl === "string" ? e.fullUrl : null,
          resource: obj(e?.resource),
          duplicate: it.duplicate,
        };
      });
  }
  seeTop();
  if (reader.duplicate)
    throw new BundleRefused(
      `clé JSON en double dans les champs du Bundle (${reader.duplicate}) : un JSON FHIR ne répète jamais une clé ; fichier refusé, rien n'a été chargé`,
    );
}

/**
 * The resources of NDJSON files (FHIR Bulk Data: one resource per line), file after file, as the
 * entries of one Bundle: each placed by its file and line (`Encounter.ndjson[12]`).
 */
export async function* ndjsonEntries(
  files: readonly FhirFile[],
  limits: ContentLimits = {},
): AsyncGenerator<Entry[]> {
  for (const file of files) {
    const pending: JsonItem[] = [];
    const reader = new JsonReader({
      pick: RESOURCE,
      maxItemBytes: MAX_VALUE_BYTES,
      documents: true,
      onItem: (item) => pending.push(item),
    });
    for await (const items of readFile(
      file,
      reader,
      pending,
      limits,
      "un fichier .ndjson doit avoir une ressource FHIR (un objet JSON) par ligne",
      true,
    )) {
      const out: Entry[] = [];
      for (const it of items) {
        const base = `${file.label}[${it.line}]`;
        const resource = obj(it.value);
        if (!resource || typeof resource.resourceType !== "string")
          throw new BundleRefused(
            `${base} : une ressource FHIR (un objet JSON avec resourceType) attendue à chaque ligne d'un fichier .ndjson ; fichier refusé, rien n'a été chargé`,
          );
        out.push({
          index: it.line,
          base,
          fullUrl: null,
          resource,
          duplicate: it.duplicate ? `${base}.${it.duplicate}` : null,
        });
      }
      if (out.length > 0) yield out;
    }
  }
}

/** The entries of a FHIR source: a Bundle's, or its NDJSON files' resources. */
export function fhirEntries(
  source: FhirSource,
  top: BundleTop,
  limits: ContentLimits = {},
): AsyncGenerator<Entry[]> {
  return source.form === "bundle"
    ? bundleEntries(source.file, top, limits)
    : ndjsonEntries(source.files, limits);
}
