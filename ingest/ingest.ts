/**
 * `ingest <file-or-folder>…`: folders are walked in relative-path byte order; `*.csv` files are
 * DUI exports, `*.json` files TDDUI Bundles (ADR 0014); any other file is reported, never
 * skipped silently.
 */
import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Db } from "../db/index.ts";
import type { RowError } from "./fields.ts";
import { ingestFile } from "./pipeline.ts";
import type { FileSource, IngestFileResult, IngestOptions } from "./result.ts";
import { ingestBundle, isJsonName } from "./tddui.ts";

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

/** The files of a folder that are read: `*.csv` and `*.json`. */
export function isReadName(name: string): boolean {
  const n = name.toLowerCase();
  return n.endsWith(".csv") || n.endsWith(".json");
}

/** `*.csv` under `dir` (kept for callers that read CSV only). */
export function walkCsv(dir: string): string[] {
  return walkFiles(dir).filter((p) => p.toLowerCase().endsWith(".csv"));
}

export interface PlannedFile {
  path: string;
  label: string;
  /** a file of a folder that is not read (neither `.csv` nor `.json`): why, in French */
  ignored?: string;
}

export const IGNORED_MESSAGE =
  "fichier non lu : ni .csv (export DUI) ni .json (Bundle TDDUI) ; renommez-le ou retirez-le du dossier";

export function planFiles(paths: readonly string[]): PlannedFile[] {
  const planned: PlannedFile[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const f of walkFiles(p)) {
        const label = relative(p, f).split(sep).join("/");
        planned.push(isReadName(f) ? { path: f, label } : { path: f, label, ignored: IGNORED_MESSAGE });
      }
    } else planned.push({ path: p, label: p });
  }
  return planned;
}

/**
 * One file, whatever its format: a `*.json` (without an explicit kind) is a TDDUI Bundle, one
 * result per kind it holds; anything else the CSV import's single result.
 */
export async function ingestSource(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  if (isJsonName(label) && opts.kind === undefined) return ingestBundle(db, src, label, opts);
  return [await ingestFile(db, src, label, opts)];
}

export async function ingestPaths(
  db: Db,
  paths: readonly string[],
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  const results: IngestFileResult[] = [];
  for (const f of planFiles(paths)) {
    if (f.ignored) {
      results.push({
        file: f.label,
        kind: null,
        status: "skipped",
        rows: 0,
        loaded: 0,
        rejected: 0,
        errors: [] as RowError[],
        message: f.ignored,
      });
      continue;
    }
    results.push(...(await ingestSource(db, { path: f.path }, f.label, opts)));
  }
  return results;
}
