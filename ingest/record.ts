/**
 * The line's last step (pipeline.ts): the import record. Before the line, the content's earlier
 * loads (the idempotency key is the content's hash and the FINESS it loaded); in the file's
 * transaction, its number first (fact rows point at it), then the record with its FINESS and
 * rejected rows; apart, the record of a file refused or failed. A dry run records nothing
 * (dry-run.ts `dryRunEnd` ends its line instead of `importEnd`).
 */
import type { Db, Queryable, Tx } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import { warningMessage } from "../domain/ingest-warnings.ts";
import { audit } from "../sql/audit.ts";
import {
  lockContent,
  nextImportId,
  type PriorLoad,
  priorLoads,
  saveImportFailure,
  saveImportFiness,
  saveImportRecord,
  saveRejections,
} from "../sql/imports.ts";
import { importNotice } from "../sql/notices.ts";
import type { FinessSpan } from "./chunks.ts";
import { sqlState } from "./db-errors.ts";
import type { RejectionLog } from "./rejections.ts";
import {
  baseResult,
  type Content,
  type IngestFileResult,
  type IngestOptions,
  type LineEnd,
  PriorChanged,
  RefusedWithRows,
  RefuseFile,
  type ResultBase,
  SkipFile,
} from "./result.ts";

/** Rejections recorded per statement. */
const REJECTIONS_PER_INSERT = 10_000;

const FAILURE_MESSAGE =
  "échec technique de l'import : rien n'a été chargé ; le détail est dans le journal du serveur";

/** What an import cancelled by the server's stop (its `signal`) says in its record. */
export const CANCELLED_MESSAGE =
  "import annulé par l'arrêt du serveur : rien n'a été chargé ; envoyez le fichier de nouveau";

/** The FINESS that earlier imports of this content loaded, sorted: their rows are set aside. */
export function loadedFiness(prior: readonly PriorLoad[]): string[] {
  return [...new Set(prior.flatMap((p) => p.finess))].sort();
}

/**
 * True when this content is loaded for the sender: whole by an unrestricted import, or every
 * FINESS of the sender's scope (the others, another grappe's after a scoped upload, load now).
 */
export function loadedForSender(prior: readonly PriorLoad[], opts: IngestOptions): boolean {
  const wholeDone = prior.some((p) => !p.scoped);
  const scopeDone =
    opts.scopeFiness !== undefined &&
    prior.length > 0 &&
    [...opts.scopeFiness].every((f) => prior.some((p) => p.finess.includes(f)));
  return wholeDone || scopeDone;
}

/**
 * In the file's transaction, before anything is staged: two imports of the same content, the
 * second waits here (PostgreSQL), then finds it loaded; an import of it that committed since the
 * line was planned sends the line back to its plan (PriorChanged).
 */
export async function claimContent(db: Db, tx: Tx, sha256: string, alreadyLoaded: string[]): Promise<void> {
  if (db.backend === "pg") await lockContent(tx, sha256);
  const now = loadedFiness(await priorLoads(tx, sha256));
  if (now.join() !== alreadyLoaded.join()) throw new PriorChanged();
}

/** How an import ends: committed with its record, under the number reserved first. */
export function importEnd(db: Db, opts: IngestOptions, started: Date, rejections: RejectionLog): LineEnd {
  return {
    transaction: (fn) => db.transaction(fn),
    // (An upload answered 202 reserved its record already: the same number.)
    reserveId: async (tx) => opts.importId ?? (await nextImportId(tx)),
    async finish(tx, result, importId, perFiness) {
      await recordImport(db, tx, result, opts, started, importId, [...perFiness], rejections);
      return { ...result, import_id: importId };
    },
  };
}

/**
 * The answer for a line cut short (result.ts): refused, before or after its rows were read;
 * nothing left to load; or a technical failure, recorded and thrown as `importFailure`.
 */
export async function recordCutShort(
  db: Db,
  content: Content,
  opts: IngestOptions,
  started: Date,
  rejections: RejectionLog,
  e: unknown,
): Promise<IngestFileResult> {
  const base = baseResult(content.label, content.kind);
  if (e instanceof RefuseFile) return refusedFile(db, base, content.sha256, e.message, opts);
  if (e instanceof SkipFile)
    return skipped(db, base, content.sha256, await priorLoads(db, content.sha256), opts);
  if (e instanceof RefusedWithRows) {
    if (opts.dryRun) return { ...e.result, dry_run: true };
    // The transaction rolled back (merged chunks included); the refusal and its reasons are
    // recorded apart.
    const importId = await recordImport(
      db,
      null,
      e.result,
      opts,
      started,
      opts.importId ?? null,
      [],
      rejections,
    );
    return { ...e.result, import_id: importId };
  }
  if (!opts.dryRun) await recordFailure(db, content, opts, started, e).catch(() => {});
  throw importFailure(e);
}

/**
 * An import that failed for a technical reason (the database, the disk): its French message
 * never carries the underlying error's text, which goes to the server's log only (`cause`).
 */
export function importFailure(cause: unknown): DomainError {
  return new DomainError("internal", FAILURE_MESSAGE, {}, { cause });
}

/**
 * A file refused whole before any row was read; an upload answered 202 has its own record, which
 * says so.
 */
export async function refusedFile(
  db: Db,
  base: ResultBase,
  sha256: string | undefined,
  message: string,
  opts: IngestOptions,
): Promise<IngestFileResult> {
  const r: IngestFileResult = {
    ...base,
    status: "refused",
    message,
    ...(sha256 ? { sha256 } : {}),
    ...(opts.dryRun ? { dry_run: true as const } : {}),
  };
  if (opts.importId === undefined || opts.dryRun) return r;
  return { ...r, import_id: await recordImport(db, null, r, opts, new Date(), opts.importId, [], null) };
}

/**
 * The answer for a content already loaded (for the sender's scope). The earlier import's number
 * is given only to whoever may see it: an unrestricted sender or the one who imported it.
 */
export async function skipped(
  db: Db,
  base: ResultBase,
  sha256: string,
  prior: PriorLoad[],
  opts: IngestOptions,
): Promise<IngestFileResult> {
  const visible = prior.find((p) => opts.scopeFiness === undefined || p.imported_by === (opts.actor ?? null));
  const r: IngestFileResult = {
    ...base,
    status: "skipped",
    message: visible ? `contenu déjà importé (import n° ${visible.import_id})` : "contenu déjà importé",
    sha256,
    ...(visible ? { import_id: visible.import_id } : {}),
    ...(opts.dryRun ? { dry_run: true as const } : {}),
  };
  if (opts.importId === undefined || opts.dryRun) return r;
  // An upload answered 202 has its own record: it says what became of the file.
  return { ...r, import_id: await recordImport(db, null, r, opts, new Date(), opts.importId, [], null) };
}

/**
 * Writes the import's record (in the file's transaction `tx`, or in one of its own): its
 * number, the FINESS it loaded with their rows and dates, its rejected rows.
 */
async function recordImport(
  db: Db,
  tx: Tx | null,
  r: IngestFileResult,
  opts: IngestOptions,
  started: Date,
  reserved: number | null,
  perFiness: [string, FinessSpan][],
  rejections: RejectionLog | null,
): Promise<number> {
  const write = async (q: Tx) => {
    const dates = perFiness
      .flatMap(([, f]) => [f.min, f.max])
      .filter((d): d is Day => d !== null)
      .sort();
    const importId = await saveImportRecord(q, reserved, {
      file_name: r.file,
      kind: r.kind ?? "inconnu",
      sha256: r.sha256 ?? "",
      // (a file not read is never recorded: it is no import)
      status: r.status === "unread" ? "skipped" : r.status,
      rows_total: r.rows,
      rows_loaded: r.loaded,
      rows_rejected: r.rejected,
      // A loaded file's warnings are its record's message: the API and the dashboard show them.
      message: r.message ?? (r.warnings?.length ? r.warnings.map(warningMessage).join(" ; ") : null),
      date_min: dates[0] ?? null,
      date_max: dates[dates.length - 1] ?? null,
      source: opts.source ?? "cli",
      imported_by: opts.actor ?? null,
      started_at: started,
      scoped: opts.scopeFiness !== undefined,
    });
    await saveImportFiness(
      q,
      importId,
      perFiness.map(([finess, f]) => ({ finess, rows: f.n, min: f.min, max: f.max })),
    );
    // Line, column, reason: never the row's values (exports.md §2).
    for await (const batch of rejections?.batches(REJECTIONS_PER_INSERT) ?? [])
      await saveRejections(q, importId, batch);
    if (opts.audit) await auditImport(q, opts.audit, importId, r);
    // Refused, or rows rejected: its uploader (or the grappes' teams) told, in this transaction.
    await importNotice(
      q,
      importId,
      { status: r.status, kind: r.kind ?? null, rows: r.rows, rejected: r.rejected },
      { source: opts.source ?? "cli", actor: opts.actor ?? null, finess: perFiness.map(([f]) => f) },
    );
    return importId;
  };
  if (tx) return write(tx);
  return db.transaction(write);
}

/** The import's audit entry: who, the action, the file, its status and counts (never a value). */
async function auditImport(
  q: Queryable,
  a: NonNullable<IngestOptions["audit"]>,
  importId: number,
  r: Pick<IngestFileResult, "file" | "rows" | "loaded" | "rejected"> & {
    status: IngestFileResult["status"] | "failed";
  },
): Promise<void> {
  await audit(q, a.actor, a.action, "import", String(importId), null, null, {
    ...a.detail,
    file: r.file,
    status: r.status,
    rows: r.rows,
    loaded: r.loaded,
    rejected: r.rejected,
  });
}

async function recordFailure(
  db: Db,
  content: Content,
  opts: IngestOptions,
  started: Date,
  e: unknown,
): Promise<void> {
  const { label, kind, sha256 } = content;
  // The database's or the system's own words go to the server's log, never into the record.
  process.stderr.write(
    `${JSON.stringify({ level: "error", message: "échec technique d'un import", file: label, error: String((e as Error)?.message ?? e), code: sqlState(e) ?? null })}\n`,
  );
  await db.transaction(async (tx) => {
    const importId = await saveImportFailure(tx, opts.importId ?? null, {
      file_name: label,
      kind,
      sha256,
      message: opts.signal?.aborted ? CANCELLED_MESSAGE : FAILURE_MESSAGE,
      source: opts.source ?? "cli",
      imported_by: opts.actor ?? null,
      started_at: started,
      scoped: opts.scopeFiness !== undefined,
    });
    if (opts.audit)
      await auditImport(tx, opts.audit, importId, {
        file: label,
        status: "failed",
        rows: 0,
        loaded: 0,
        rejected: 0,
      });
  });
}
