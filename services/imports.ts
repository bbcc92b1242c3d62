/**
 * Imports sent through the API (ADR 0009): the background queue that runs them one after the other
 * in this process, the verb that accepts an upload (its record reserved as `running`, the file
 * queued, the audit entry written once it is done), and the verb that checks one without storing
 * anything (a dry run, audited). The file itself has already been received on disk by the caller
 * (api/uploads.ts: a private temporary folder, removed when the import ends).
 */
import type { Db } from "../db/index.ts";
import { databaseDeadline } from "../db/mutex.ts";
import { DomainError } from "../domain/errors.ts";
import { ingestSource } from "../ingest/ingest.ts";
import { kindFromFileName } from "../ingest/kinds.ts";
import type { IngestFileResult, IngestOptions } from "../ingest/result.ts";
import { combineResults } from "../ingest/tddui.ts";
import { audit } from "../sql/audit.ts";
import { finishImportRecord, reserveImport } from "../sql/imports.ts";

/** A file received on disk, as the queue needs it. */
export interface ReceivedFile {
  name: string;
  path: string;
  bytes: number;
  /** most bytes its content may hold, decompressed (MAX_UPLOAD_MB: a `.gz` is bounded alike) */
  maxContentBytes?: number;
  /** deletes the file's temporary folder */
  discard(): void;
}

/**
 * How an upload is read, imported or checked: its content bounded as the upload was, and JSON
 * (TDDUI Bundles, FHIR NDJSON) parsed by worker threads, never by the thread that answers
 * requests (ADR 0023), on both databases.
 */
function readingOf(file: ReceivedFile): Pick<IngestOptions, "contentLimits" | "jsonInWorker"> {
  return {
    jsonInWorker: true,
    ...(file.maxContentBytes !== undefined
      ? { contentLimits: { maxBytes: file.maxContentBytes, limitName: "MAX_UPLOAD_MB" } }
      : {}),
  };
}

/** Uploads waiting or running per process: beyond, 503 (each may hold MAX_UPLOAD_MB on disk). */
export const MAX_QUEUED_UPLOADS = 8;

/** Rows per merged chunk for uploads on PGlite (ADR 0009): each merge statement stays short. */
export const PGLITE_UPLOAD_CHUNK_ROWS = 20_000;
/** Rows per merged chunk for uploads on PostgreSQL. */
export const PG_UPLOAD_CHUNK_ROWS = 25_000;

export interface UploadJob {
  importId: number;
  upload: ReceivedFile;
  options: Omit<IngestOptions, "importId" | "onProgress" | "readInWorker">;
  /** told the import's result once it is recorded (the audit entry) */
  done?: (r: IngestFileResult) => Promise<void>;
}

/**
 * Runs uploads one after the other in the background; keeps each running import's progress
 * (rows read) for GET /api/imports/{id}. One queue per server process.
 */
export class UploadQueue {
  private tail: Promise<void> = Promise.resolve();
  private readonly progress = new Map<number, number>();
  private pending = 0;
  constructor(
    private readonly db: Db,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  /** rows read so far by a running import of this process, or null */
  progressOf(importId: number): number | null {
    return this.progress.get(importId) ?? null;
  }

  /** imports waiting or running in this process */
  get size(): number {
    return this.pending;
  }

  /** True when MAX_QUEUED_UPLOADS wait or run: the next upload is refused (disk and time bounded). */
  get full(): boolean {
    return this.pending >= MAX_QUEUED_UPLOADS;
  }

  /** 503 with Retry-After when the queue is full: checked before an upload's body is read. */
  refuseIfFull(): void {
    if (this.full)
      throw new DomainError(
        "unavailable",
        "trop d'imports en attente sur ce serveur ; renvoyez le fichier dans une minute",
        { retry_after: 60 },
      );
  }

  /** Queues an upload; resolves when it has run (tests), never rejects. */
  enqueue(job: UploadJob): Promise<void> {
    this.pending += 1;
    this.progress.set(job.importId, 0);
    // The import runs outside the request that queued it (no request deadline, ADR 0009).
    const run = databaseDeadline.exit(() => this.tail.then(() => this.run(job)));
    this.tail = run;
    return run;
  }

  /** Waits for every queued upload (server shutdown, tests). */
  async drain(): Promise<void> {
    await this.tail;
  }

  private async run(job: UploadJob): Promise<void> {
    try {
      // A TDDUI Bundle (`*.json`, ADR 0014) is one import per kind: the reserved record is the first's.
      const parts = await ingestSource(this.db, { path: job.upload.path }, job.upload.name, {
        ...job.options,
        ...readingOf(job.upload),
        importId: job.importId,
        // PGlite runs in this thread: reading and validation go to a worker thread so that the
        // event loop stays free (ADR 0009). On PostgreSQL the CLI's in-thread reading (yielding
        // between batches) keeps memory lower.
        readInWorker: this.db.backend === "pglite",
        // On PGlite every statement holds the event loop: smaller chunks, shorter holds. On
        // PostgreSQL, a quarter of the CLI's chunks: the server's memory stays under 300 MB even
        // on a loaded machine (ADR 0009).
        chunkRows: this.db.backend === "pglite" ? PGLITE_UPLOAD_CHUNK_ROWS : PG_UPLOAD_CHUNK_ROWS,
        onProgress: (rows) => this.progress.set(job.importId, rows),
      });
      const first = parts[0] as IngestFileResult;
      // (an upload is always read: `unread` is a folder's answer, never an upload's)
      const status = first.status === "unread" ? "refused" : first.status;
      await finishImportRecord(this.db, job.importId, status, first.message ?? null);
      const r = combineResults(job.upload.name, parts);
      await job.done?.(r);
    } catch (e) {
      this.log({
        level: "error",
        message: "échec d'un import envoyé",
        import_id: job.importId,
        error: String(e),
      });
      await finishImportRecord(
        this.db,
        job.importId,
        "failed",
        "échec technique de l'import : rien n'a été chargé ; le détail est dans le journal du serveur",
      ).catch(() => {});
    } finally {
      job.upload.discard();
      this.progress.delete(job.importId);
      this.pending -= 1;
    }
  }
}

/** Who sends an upload, and the FINESS they may load (undefined: any known one). */
export interface Sender {
  /** the sender's address (the import record's `imported_by`) */
  email: string;
  /** the audit log's actor */
  actor: string;
  scopeFiness: ReadonlySet<string> | undefined;
}

/**
 * Accepts an upload: reserves its import record as `running` (the number the 202 gives), queues
 * its import, and writes its audit entry once it is done. Errors: 503 when the queue is full (the
 * file is then discarded). The caller answers at once; the import runs in the background.
 */
export async function acceptUpload(
  db: Db,
  queue: UploadQueue,
  file: ReceivedFile,
  sender: Sender,
  secret: string,
): Promise<number> {
  let importId: number;
  try {
    queue.refuseIfFull();
    importId = await reserveImport(
      db,
      file.name,
      kindFromFileName(file.name) ?? "inconnu",
      sender.email,
      sender.scopeFiness !== undefined,
    );
  } catch (e) {
    file.discard();
    throw e;
  }
  void queue.enqueue({
    importId,
    upload: file,
    options: {
      secret,
      source: "api",
      actor: sender.email,
      ...(sender.scopeFiness ? { scopeFiness: new Set(sender.scopeFiness) } : {}),
    },
    done: async (r) =>
      audit(db, sender.actor, "import.upload", "import", String(importId), null, null, {
        file: file.name,
        bytes: file.bytes,
        status: r.status,
        rows: r.rows,
        loaded: r.loaded,
        rejected: r.rejected,
      }),
  });
  return importId;
}

/**
 * Checks an upload without storing anything (issue 16 §2): read, validated and merged exactly as
 * an import, in a transaction rolled back; a TDDUI Bundle's kinds checked together and added up.
 * The audit log says who checked which file. The file is discarded in any case.
 */
export async function checkUpload(
  db: Db,
  file: ReceivedFile,
  sender: Sender,
  secret: string,
): Promise<IngestFileResult & { dry_run: true }> {
  try {
    const r = combineResults(
      file.name,
      await ingestSource(db, { path: file.path }, file.name, {
        ...readingOf(file),
        secret,
        source: "api",
        actor: sender.email,
        ...(sender.scopeFiness ? { scopeFiness: new Set(sender.scopeFiness) } : {}),
        dryRun: true,
      }),
    );
    await audit(db, sender.actor, "import.check", "import", "essai", null, null, {
      file: file.name,
      bytes: file.bytes,
      status: r.status,
      rows: r.rows,
    });
    return { ...r, dry_run: true };
  } finally {
    file.discard();
  }
}
