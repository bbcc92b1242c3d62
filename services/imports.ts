/**
 * Imports sent through the API (ADR 0009, issue 29): the queue that runs this process's heavy file
 * work one job after the other — background imports of uploads, and the dry runs and
 * re-identifications that a request waits for — and the verbs that use it: accept an upload (its
 * record reserved as `running`, its import queued, its audit entry written in the import's own
 * transaction), check one without storing anything. The file itself has been received on disk by
 * the caller (api/uploads.ts, in this process's temporary folder: ingest/temp.ts) and is removed
 * when its job ends, whatever happens.
 *
 * A stopping server drains the queue up to a timeout, then cancels the rest: the running import
 * between two chunks (its transaction rolls back), the waiting ones at once; each is recorded as
 * failed and can be sent again (`shutdown`).
 */
import type { Db } from "../db/index.ts";
import { databaseDeadline } from "../db/mutex.ts";
import { DomainError } from "../domain/errors.ts";
import { ingestSource } from "../ingest/ingest.ts";
import { type Kind, kindFromFileName } from "../ingest/kinds.ts";
import { CANCELLED_MESSAGE } from "../ingest/record.ts";
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

/** Jobs waiting or running per process: beyond, 503 (each may hold MAX_UPLOAD_MB on disk). */
export const MAX_QUEUED_UPLOADS = 8;

/** Rows per merged chunk for uploads on PGlite (ADR 0009): each merge statement stays short. */
export const PGLITE_UPLOAD_CHUNK_ROWS = 20_000;
/** Rows per merged chunk for uploads on PostgreSQL. */
export const PG_UPLOAD_CHUNK_ROWS = 25_000;

export { CANCELLED_MESSAGE } from "../ingest/record.ts";

export interface UploadJob {
  importId: number;
  upload: ReceivedFile;
  options: Omit<IngestOptions, "importId" | "onProgress" | "readInWorker" | "signal">;
}

/** One job of the queue: it runs with a signal that a stopping server may abort. */
interface Job {
  run(signal: AbortSignal): Promise<void>;
  /** the job is cancelled before it started (a stopping server) */
  cancel(): Promise<void>;
}

/**
 * Runs this process's file work one job after the other: background imports of uploads, and the
 * dry runs and re-identifications a request waits for; keeps each running import's progress (rows
 * read) for GET /api/imports/{id}. One queue per server process.
 */
export class UploadQueue {
  private readonly waiting: Job[] = [];
  private running: Promise<void> | null = null;
  private readonly progress = new Map<number, number>();
  private readonly stop = new AbortController();
  private closed = false;
  constructor(
    private readonly db: Db,
    private readonly log: (entry: Record<string, unknown>) => void,
  ) {}

  /** rows read so far by a running import of this process, or null */
  progressOf(importId: number): number | null {
    return this.progress.get(importId) ?? null;
  }

  /** jobs waiting or running in this process */
  get size(): number {
    return this.waiting.length + (this.running ? 1 : 0);
  }

  /** True when MAX_QUEUED_UPLOADS wait or run: the next job is refused (disk and time bounded). */
  get full(): boolean {
    return this.size >= MAX_QUEUED_UPLOADS;
  }

  /** 503 with Retry-After when the queue is full or the server stopping: checked before a body is read. */
  refuseIfFull(): void {
    if (this.closed)
      throw new DomainError("unavailable", "le serveur s'arrête : renvoyez le fichier dans une minute", {
        retry_after: 60,
      });
    if (this.full)
      throw new DomainError(
        "unavailable",
        "trop d'imports en attente sur ce serveur ; renvoyez le fichier dans une minute",
        { retry_after: 60 },
      );
  }

  /** Queues an upload's import; resolves when it has run or was cancelled (tests), never rejects. */
  enqueue(job: UploadJob): Promise<void> {
    this.progress.set(job.importId, 0);
    return new Promise<void>((resolve) => {
      this.push({
        run: (signal) => this.importUpload(job, signal).finally(resolve),
        cancel: async () => {
          await this.fail(job.importId, CANCELLED_MESSAGE);
          job.upload.discard();
          this.progress.delete(job.importId);
          resolve();
        },
      });
    });
  }

  /**
   * Runs `work` when its turn comes (a dry run, a re-identification): the caller waits for its
   * result; a stopping server rejects it with 503 before it starts, or aborts its signal.
   */
  run<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.refuseIfFull();
    return new Promise<T>((resolve, reject) => {
      this.push({
        run: (signal) => work(signal).then(resolve, reject),
        cancel: async () =>
          reject(
            new DomainError("unavailable", "le serveur s'arrête : réessayez dans une minute", {
              retry_after: 60,
            }),
          ),
      });
    });
  }

  /** Waits for every queued job (tests). */
  async drain(): Promise<void> {
    while (this.running || this.waiting.length > 0) await this.running;
  }

  /**
   * A stopping server: no new job; the queue drained for up to `timeoutMs`; then the running job
   * aborted (an import stops between two chunks and rolls back) and the waiting ones cancelled,
   * each import recorded as failed. Returns how many jobs ended on their own and were cancelled.
   */
  async shutdown(timeoutMs: number): Promise<{ finished: number; cancelled: number }> {
    this.closed = true;
    let finished = 0;
    const deadline = Date.now() + timeoutMs;
    while (this.running && Date.now() < deadline) {
      const left = deadline - Date.now();
      const ended = await Promise.race([
        this.running.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), left).unref()),
      ]);
      if (ended) finished += 1;
    }
    const cancelled = this.waiting.length + (this.running ? 1 : 0);
    const waiting = this.waiting.splice(0);
    this.stop.abort(new DomainError("unavailable", "arrêt du serveur"));
    for (const job of waiting) await job.cancel().catch(() => {});
    await this.running;
    return { finished, cancelled };
  }

  private push(job: Job): void {
    this.waiting.push(job);
    if (!this.running) this.next();
  }

  private next(): void {
    const job = this.waiting.shift();
    if (!job) {
      this.running = null;
      return;
    }
    // The job runs outside the request that queued it (no request deadline, ADR 0009).
    this.running = databaseDeadline.exit(() =>
      job
        .run(this.stop.signal)
        .catch((e) =>
          this.log({ level: "error", message: "échec d'un travail de la file", error: String(e) }),
        ),
    );
    void this.running.finally(() => this.next());
  }

  private async importUpload(job: UploadJob, signal: AbortSignal): Promise<void> {
    try {
      // A TDDUI Bundle (`*.json`, ADR 0014) is one import per kind: the reserved record is the first's.
      const parts = await ingestSource(this.db, { path: job.upload.path }, job.upload.name, {
        ...job.options,
        ...readingOf(job.upload),
        importId: job.importId,
        signal,
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
    } catch (e) {
      this.log({
        level: "error",
        message: "échec d'un import envoyé",
        import_id: job.importId,
        error: String(e),
      });
      await this.fail(
        job.importId,
        signal.aborted
          ? CANCELLED_MESSAGE
          : "échec technique de l'import : rien n'a été chargé ; le détail est dans le journal du serveur",
      );
    } finally {
      job.upload.discard();
      this.progress.delete(job.importId);
    }
  }

  /**
   * Ends an import's record as failed. The database may be away at that moment (a restart): tried
   * again a few times, so that the record does not stay « en cours ».
   */
  private async fail(importId: number, message: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await finishImportRecord(this.db, importId, "failed", message);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt).unref());
      }
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
 * Accepts an upload: reserves its import record as `running` (the number the 202 gives) and queues
 * its import, whose audit entry is written with its record in the import's own transaction.
 * Errors: 503 when the queue is full or the server stopping (the file is then discarded). The
 * caller answers at once; the import runs in the background.
 */
export async function acceptUpload(
  db: Db,
  queue: UploadQueue,
  file: ReceivedFile,
  sender: Sender,
  secret: string,
  kind?: Kind,
): Promise<number> {
  let importId: number;
  try {
    queue.refuseIfFull();
    importId = await reserveImport(
      db,
      file.name,
      kind ?? kindFromFileName(file.name) ?? "inconnu",
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
      ...(kind ? { kind } : {}),
      ...(sender.scopeFiness ? { scopeFiness: new Set(sender.scopeFiness) } : {}),
      audit: { actor: sender.actor, action: "import.upload", detail: { bytes: file.bytes } },
    },
  });
  return importId;
}

/**
 * Checks an upload without storing anything (issue 16 §2), when its turn in the queue comes: read,
 * validated and merged exactly as an import, in a transaction rolled back; a TDDUI Bundle's kinds
 * checked together and added up. The audit log says who checked which file. The file is
 * discarded in any case.
 */
export async function checkUpload(
  db: Db,
  queue: UploadQueue,
  file: ReceivedFile,
  sender: Sender,
  secret: string,
  kind?: Kind,
): Promise<IngestFileResult & { dry_run: true }> {
  try {
    const parts = await queue.run((signal) =>
      ingestSource(db, { path: file.path }, file.name, {
        ...readingOf(file),
        secret,
        source: "api",
        actor: sender.email,
        ...(kind ? { kind } : {}),
        ...(sender.scopeFiness ? { scopeFiness: new Set(sender.scopeFiness) } : {}),
        dryRun: true,
        signal,
      }),
    );
    const r = combineResults(file.name, parts);
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
