/** `ingest <file-or-folder>…`: folders are walked for *.csv in relative-path byte order. */
import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Db } from "../db/index.ts";
import { type IngestFileResult, type IngestOptions, ingestFile } from "./importer.ts";

export function walkCsv(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) visit(p);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith(".csv")) out.push(p);
    }
  };
  visit(dir);
  // byte order of the relative paths, with "/" as separator whatever the platform
  const rel = (p: string) => relative(dir, p).split(sep).join("/");
  return out.sort((a, b) => Buffer.compare(Buffer.from(rel(a)), Buffer.from(rel(b))));
}

export interface PlannedFile {
  path: string;
  label: string;
}

export function planFiles(paths: readonly string[]): PlannedFile[] {
  const planned: PlannedFile[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const f of walkCsv(p)) planned.push({ path: f, label: relative(p, f).split(sep).join("/") });
    } else planned.push({ path: p, label: p });
  }
  return planned;
}

export async function ingestPaths(
  db: Db,
  paths: readonly string[],
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  const results: IngestFileResult[] = [];
  for (const f of planFiles(paths)) results.push(await ingestFile(db, { path: f.path }, f.label, opts));
  return results;
}
