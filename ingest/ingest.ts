/**
 * `ingest <file-or-folder>…` (cli.md): folders are walked in relative-path byte order; `*.csv`
 * files are DUI exports, `*.json` files TDDUI Bundles (ADR 0014), `*.ndjson` files FHIR Bulk Data
 * (the NDJSON files of one folder read together, as one Bundle's entries), and each of them
 * `.gz` (read as its content, ADR 0023); any other file of a folder is answered `unread` (« non
 * lu »), never passed over in silence nor called `skipped` (which means « same content already
 * imported »).
 */
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { Db } from "../db/index.ts";
import { inRun } from "./dossier-watch.ts";
import type { RowError } from "./fields.ts";
import { ingestFile } from "./pipeline.ts";
import type { FileSource, IngestFileResult, IngestOptions } from "./result.ts";
import { ingestFhir, isJsonName, isNdjsonName } from "./tddui.ts";

/** Every regular file under `dir`, in byte order of the relative paths ("/" as separator). */
export function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) visit(p);
      else out.push(p);
    }
  };
  visit(dir);
  const rel = (p: string) => relative(dir, p).split(sep).join("/");
  return out.sort((a, b) => Buffer.compare(Buffer.from(rel(a)), Buffer.from(rel(b))));
}

/** The files of a folder that are read: `*.csv`, `*.json`, `*.ndjson`, and each of them `.gz`. */
export function isReadName(name: string): boolean {
  return /\.(csv|json|ndjson)(\.gz)?$/i.test(name);
}

/** `*.csv` under `dir` (kept for callers that read CSV only). */
export function walkCsv(dir: string): string[] {
  return walkFiles(dir).filter((p) => p.toLowerCase().endsWith(".csv"));
}

export interface PlannedFile {
  path: string;
  label: string;
  /** a file of a folder that is not read: why, in French */
  unread?: string;
}

/** What a run imports, in order: a file, or the NDJSON files of one folder (one FHIR export). */
export type PlannedItem = PlannedFile | { ndjson: PlannedFile[]; label: string };

export const UNREAD_MESSAGE =
  "fichier non lu : ni .csv (export DUI), ni .json (Bundle TDDUI), ni .ndjson (export FHIR), compressés .gz ou non ; renommez-le ou retirez-le du dossier";
/** Kept for callers of the earlier name. */
export const IGNORED_MESSAGE = UNREAD_MESSAGE;

/** The files of the paths given, folders walked, each read or said unread. */
export function planFiles(paths: readonly string[]): PlannedFile[] {
  const planned: PlannedFile[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const f of walkFiles(p)) {
        const label = relative(p, f).split(sep).join("/");
        planned.push(isReadName(f) ? { path: f, label } : { path: f, label, unread: UNREAD_MESSAGE });
      }
    } else planned.push({ path: p, label: p });
  }
  return planned;
}

/**
 * The run's items: each file in order, but the NDJSON files of one folder together, where the
 * first of them comes (a bulk export's Patients and Encounters refer to one another).
 */
export function planItems(files: readonly PlannedFile[]): PlannedItem[] {
  const items: PlannedItem[] = [];
  const sets = new Map<string, PlannedFile[]>();
  for (const f of files) {
    if (f.unread || !isNdjsonName(f.label)) {
      items.push(f);
      continue;
    }
    const folder = dirname(f.label);
    const set = sets.get(folder);
    if (set) {
      set.push(f);
      continue;
    }
    const files = [f];
    sets.set(folder, files);
    items.push({ ndjson: files, label: "" });
  }
  for (const item of items) if ("ndjson" in item) item.label = ndjsonLabel(item.ndjson);
  return items;
}

/** A bulk export's name in the summary: its one file, or `folder/*.ndjson`. */
function ndjsonLabel(files: readonly PlannedFile[]): string {
  const first = (files[0] as PlannedFile).label;
  if (files.length === 1) return first;
  const folder = dirname(first);
  return folder === "." ? "*.ndjson" : `${folder}/*.ndjson`;
}

/**
 * One file, whatever its format: a `*.json` (without an explicit kind) is a TDDUI Bundle and a
 * `*.ndjson` a FHIR bulk file, one result per kind they hold; anything else the CSV import's.
 */
export async function ingestSource(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  // A file imported alone (an upload) is a run of its own.
  if (!opts.dossierWatch) return inRun(db, opts, (o) => ingestSource(db, src, label, o));
  if (opts.kind === undefined && isJsonName(label))
    return ingestFhir(db, { form: "bundle", files: [{ src, label }] }, label, opts);
  if (opts.kind === undefined && isNdjsonName(label))
    return ingestFhir(db, { form: "ndjson", files: [{ src, label }] }, label, opts);
  return [await ingestFile(db, src, label, opts)];
}

/** The answer for a file of a folder that is not read. */
export function unreadResult(label: string, message = UNREAD_MESSAGE): IngestFileResult {
  return {
    file: label,
    kind: null,
    status: "unread",
    rows: 0,
    loaded: 0,
    rejected: 0,
    errors: [] as RowError[],
    message,
  };
}

/** One item of a run: a file, or a folder's NDJSON files together. */
export function ingestItem(db: Db, item: PlannedItem, opts: IngestOptions): Promise<IngestFileResult[]> {
  if (!opts.dossierWatch) return inRun(db, opts, (o) => ingestItem(db, item, o));
  if ("ndjson" in item) {
    const files = item.ndjson.map((f) => ({ src: { path: f.path }, label: f.label }));
    return ingestFhir(db, { form: "ndjson", files }, item.label, opts);
  }
  if (item.unread) return Promise.resolve([unreadResult(item.label, item.unread)]);
  return ingestSource(db, { path: item.path }, item.label, opts);
}

export async function ingestPaths(
  db: Db,
  paths: readonly string[],
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  // Contents met in this run: a dry run tells a later file holding one of them `skipped`. Rows
  // without a dossier are counted once every file of the run is in (a folder's agenda comes
  // before its dossiers).
  const run = { ...opts, runContents: opts.runContents ?? new Map<string, string>() };
  return inRun(db, run, async (o) => {
    const results: IngestFileResult[] = [];
    for (const item of planItems(planFiles(paths))) results.push(...(await ingestItem(db, item, o)));
    return results;
  });
}
