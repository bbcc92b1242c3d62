/**
 * Rows without a dossier (exports.md §1): rows of person-level files (projets personnalisés,
 * agenda, DMP) whose usager has no dossier in that ESSMS are loaded, and counted at the end of the
 * run — a folder's `agenda.csv` comes before its `dossiers.csv` in byte order — as the warning
 * `sans_dossier` (count, lines), with, among them, those whose identifier matches a known dossier
 * once leading zeros are added or removed (up to 9): `zeros_de_tete`. Counts and lines only,
 * never an identifier.
 *
 * How, without storing a DUI identifier (ADR 0026): while a file is staged, each chunk's new
 * usagers are checked against the dossiers (`sejour`) in the file's transaction; those without
 * one are the file's candidates, kept in memory with their pseudonym and their DUI id (the reader
 * hands them over for person-level kinds only), and the lines of their rows. At the end of the run
 * the candidates are checked again when a dossiers file loaded after theirs; the zero variants of
 * what remains are pseudonymised here and looked up. A dry run's dossiers are rolled back file by
 * file: the pseudonyms of the dossiers it would load are kept for the run instead.
 */
import type { Db, Queryable, Tx } from "../db/index.ts";
import { type IngestWarning, MAX_WARNING_LINES, warningMessage } from "../domain/ingest-warnings.ts";
import { saveImportMessage } from "../sql/imports.ts";
import type { Chunk } from "./chunks.ts";
import { KIND_DEFS, type Kind } from "./kinds.ts";
import { pseudonymise } from "./pseudonym.ts";
import type { IngestFileResult, IngestOptions } from "./result.ts";

/** Leading zeros added or removed at most (exports.md §1). */
export const MAX_ZEROS = 9;

/** Usagers looked up per statement. */
const LOOKUP_BATCH = 20_000;

/**
 * An identifier with its leading zeros added or removed, up to MAX_ZEROS each way (`457` →
 * `0457` … `000000000457`; `000459` → `00459`, `0459`, `459`, `0000459` …): what a spreadsheet
 * makes of an identifier it took for a number. Identifiers of digits only; others have none.
 */
export function zeroVariants(id: string): string[] {
  if (!/^\d+$/.test(id)) return [];
  let zeros = 0;
  while (zeros < id.length - 1 && id.charCodeAt(zeros) === 48) zeros += 1;
  const core = id.slice(zeros);
  const out: string[] = [];
  for (let k = Math.max(0, zeros - MAX_ZEROS); k <= zeros + MAX_ZEROS; k++)
    if (k !== zeros) out.push("0".repeat(k) + core);
  return out;
}

/** A usager of a person-level file without a dossier when its file was staged. */
interface Candidate {
  finess: string;
  pseudonym: string;
  /** the DUI id as read, in memory only */
  raw: string;
}

/** The rows of one file (one attempt at it) whose usager had no dossier, and who they are. */
export class FileWatch {
  readonly candidates: Candidate[] = [];
  /** file-local usager number → candidate index + 1 (0: has a dossier, or not seen) */
  private candidateOf = new Int32Array(1024);
  /** the candidates' rows: line and candidate index, in file order */
  lines = new Int32Array(0);
  owners = new Int32Array(0);
  rows = 0;
  /** a dry run's dossiers file: the `finess:pseudonym` of its usagers */
  readonly dossiers: string[] = [];

  constructor(
    readonly kind: Kind,
    private readonly run: DossierWatch,
  ) {}

  /**
   * After the chunk's usagers are registered (stage.ts `registerChunk`), in the file's
   * transaction: its new usagers without a dossier become candidates, and its rows of candidates
   * are noted with their lines.
   */
  async chunk(tx: Tx, chunk: Chunk): Promise<void> {
    const u = chunk.usagers;
    if (this.kind === "dossiers") {
      for (let i = 0; i < u.local.length; i++) this.dossiers.push(`${u.finess[i]}:${u.pseudonym[i]}`);
      return;
    }
    if (u.local.length > 0) {
      for (const local of await this.withoutDossier(tx, u.local, u.finess)) {
        const at = this.positionOf(u.local, local);
        const c = {
          finess: u.finess[at] as string,
          pseudonym: u.pseudonym[at] as string,
          raw: u.raw?.[at] ?? "",
        };
        // (a dossier that an earlier file of this dry run would load is a dossier)
        if (this.run.hasDryDossier(c.finess, c.pseudonym)) continue;
        this.candidates.push(c);
        this.mark(local, this.candidates.length);
      }
    }
    const rows = chunk.rows;
    if (this.candidates.length === 0 || !rows) return;
    const of = this.candidateOf;
    for (let r = 0; r < rows.lines.length; r++) {
      const local = rows.usagers[r] as number;
      const c = local < of.length ? (of[local] as number) : 0;
      if (c !== 0) this.note(rows.lines[r] as number, c - 1);
    }
  }

  /**
   * The chunk's new usagers (file-local numbers) that have no dossier, in one statement answering
   * one array: a hash anti-join on the dossiers of the chunk's FINESS. The numbers of a chunk's
   * new usagers follow one another (chunks.ts `stageRowBuilder`), read as a range of the key.
   */
  private async withoutDossier(
    tx: Tx,
    locals: readonly number[],
    finess: readonly string[],
  ): Promise<number[]> {
    const first = locals[0] as number;
    const last = locals[locals.length - 1] as number;
    const byRange = last - first + 1 === locals.length;
    const [row] = await tx.query<{ l: number[] }>(
      `select coalesce(array_agg(f.local), '{}') as l from file_usager f
       where ${byRange ? "f.local between $2 and $3" : "f.local = any($2::int[])"}
         and not exists (select 1 from sejour s where s.finess = any($1::text[]) and s.usager = f.usager)`,
      byRange ? [[...new Set(finess)], first, last] : [[...new Set(finess)], locals],
    );
    return row?.l ?? [];
  }

  /** Where a new usager's number is in its chunk's `NewUsagers`. */
  private positionOf(locals: readonly number[], local: number): number {
    const first = locals[0] as number;
    return locals[local - first] === local ? local - first : locals.indexOf(local);
  }

  private mark(local: number, value: number): void {
    if (local >= this.candidateOf.length) {
      const bigger = new Int32Array(Math.max(this.candidateOf.length * 2, local + 1));
      bigger.set(this.candidateOf);
      this.candidateOf = bigger;
    }
    this.candidateOf[local] = value;
  }

  private note(line: number, candidate: number): void {
    if (this.rows === this.lines.length) {
      const size = Math.max(4096, this.rows * 2);
      const lines = new Int32Array(size);
      lines.set(this.lines);
      this.lines = lines;
      const owners = new Int32Array(size);
      owners.set(this.owners);
      this.owners = owners;
    }
    this.lines[this.rows] = line;
    this.owners[this.rows] = candidate;
    this.rows += 1;
  }
}

/** A file kept by the run: its idempotency key (the result's `sha256`) and what it saw. */
interface Kept {
  sha256: string;
  watch: FileWatch;
  /** dossiers files the run had loaded when this one loaded */
  dossiersBefore: number;
}

/** The watch of one run (a folder, the inbox's pass, an upload): its files' candidates. */
export class DossierWatch {
  private readonly kept: Kept[] = [];
  private dossiersLoaded = 0;
  /** a dry run's dossiers, as `finess:pseudonym`: rolled back, they are known here only */
  private readonly dryDossiers = new Set<string>();

  constructor(private readonly secret: string) {}

  /** A watch for one attempt at one file of `kind`; null when the kind needs none. */
  file(kind: Kind, dryRun: boolean): FileWatch | null {
    if (KIND_DEFS[kind].person || (kind === "dossiers" && dryRun)) return new FileWatch(kind, this);
    return null;
  }

  /** The attempt loaded (or, in a dry run, would load): what it saw counts for the run. */
  keep(kind: Kind, sha256: string, watch: FileWatch | null): void {
    if (kind === "dossiers") {
      this.dossiersLoaded += 1;
      for (const k of watch?.dossiers ?? []) this.dryDossiers.add(k);
      return;
    }
    if (watch && watch.rows > 0) this.kept.push({ sha256, watch, dossiersBefore: this.dossiersLoaded });
  }

  hasDryDossier(finess: string, pseudonym: string): boolean {
    return this.dryDossiers.size > 0 && this.dryDossiers.has(`${finess}:${pseudonym}`);
  }

  /**
   * The end of the run: each kept file's warnings, by its idempotency key. Candidates are checked
   * again only when a dossiers file loaded after theirs (otherwise nothing of the run can have
   * given them a dossier); the zero variants of those still without one are looked up.
   */
  async finish(db: Queryable): Promise<Map<string, IngestWarning[]>> {
    const out = new Map<string, IngestWarning[]>();
    for (const k of this.kept) {
      const { watch } = k;
      const cands = watch.candidates;
      const stillWithout = new Uint8Array(cands.length).fill(1);
      if (k.dossiersBefore < this.dossiersLoaded) {
        const found = await this.withDossier(
          db,
          cands.map((c) => c.finess),
          cands.map((c) => c.pseudonym),
        );
        for (const i of found) stillWithout[i] = 0;
      }
      // The zero variants of the candidates still without a dossier, pseudonymised here.
      const vf: string[] = [];
      const vp: string[] = [];
      const vOwner: number[] = [];
      cands.forEach((c, i) => {
        if (!stillWithout[i]) return;
        for (const v of zeroVariants(c.raw)) {
          vf.push(c.finess);
          vp.push(pseudonymise(this.secret, c.finess, v));
          vOwner.push(i);
        }
      });
      const zeros = new Uint8Array(cands.length);
      for (const j of await this.withDossier(db, vf, vp)) zeros[vOwner[j] as number] = 1;
      const warnings = countRows(watch, stillWithout, zeros);
      if (warnings.length > 0) out.set(k.sha256, warnings);
    }
    return out;
  }

  /** The indexes of the `(finess, pseudonym)` pairs that have a dossier (or would, in a dry run). */
  private async withDossier(db: Queryable, finess: string[], pseudonyms: string[]): Promise<number[]> {
    const found: number[] = [];
    for (let from = 0; from < finess.length; from += LOOKUP_BATCH) {
      const f = finess.slice(from, from + LOOKUP_BATCH);
      const p = pseudonyms.slice(from, from + LOOKUP_BATCH);
      const rows = await db.query<{ i: number }>(
        `select n.i::int as i from unnest($1::text[], $2::text[]) with ordinality as n(f, p, i)
         join usager k on k.finess = n.f and k.pseudonym = n.p
         where exists (select 1 from sejour s where s.finess = k.finess and s.usager = k.usager)`,
        [f, p],
      );
      for (const { i } of rows) found.push(from + i - 1);
      f.forEach((x, i) => {
        if (this.hasDryDossier(x, p[i] as string)) found.push(from + i);
      });
    }
    return found;
  }
}

/** A kept file's warnings: its rows without a dossier, and among them those matched but for zeros. */
function countRows(watch: FileWatch, without: Uint8Array, zeros: Uint8Array): IngestWarning[] {
  const sans = { count: 0, lines: [] as number[] };
  const zero = { count: 0, lines: [] as number[] };
  for (let r = 0; r < watch.rows; r++) {
    const c = watch.owners[r] as number;
    if (!without[c]) continue;
    const line = watch.lines[r] as number;
    sans.count += 1;
    if (sans.lines.length < MAX_WARNING_LINES) sans.lines.push(line);
    if (zeros[c]) {
      zero.count += 1;
      if (zero.lines.length < MAX_WARNING_LINES) zero.lines.push(line);
    }
  }
  const out: IngestWarning[] = [];
  if (sans.count > 0) out.push({ kind: "sans_dossier", ...sans });
  if (zero.count > 0) out.push({ kind: "zeros_de_tete", ...zero });
  return out;
}

/**
 * The run's end: each loaded file's result gets its warnings, and so does its import record's
 * message (the API and the dashboard show it), written once the run is over.
 */
export async function endRun(
  db: Db,
  watch: DossierWatch,
  results: IngestFileResult[],
): Promise<IngestFileResult[]> {
  const found = await watch.finish(db);
  if (found.size === 0) return results;
  const out: IngestFileResult[] = [];
  for (const r of results) {
    const added = r.status === "loaded" && r.sha256 !== undefined ? found.get(r.sha256) : undefined;
    if (!added) {
      out.push(r);
      continue;
    }
    const warnings = [...(r.warnings ?? []), ...added];
    if (r.import_id !== undefined && !r.dry_run && r.message === undefined)
      await saveImportMessage(db, r.import_id, warnings.map(warningMessage).join(" ; "));
    out.push({ ...r, warnings });
  }
  return out;
}

/**
 * Runs `fn` as a run of its own unless it belongs to one already (`opts.dossierWatch`): a file
 * imported alone (an upload, a single file) is its own run.
 */
export async function inRun(
  db: Db,
  opts: IngestOptions,
  fn: (opts: IngestOptions) => Promise<IngestFileResult[]>,
): Promise<IngestFileResult[]> {
  if (opts.dossierWatch) return fn(opts);
  const watch = new DossierWatch(opts.secret);
  return endRun(db, watch, await fn({ ...opts, dossierWatch: watch }));
}
