/**
 * Uploads (POST /api/imports, ADR 0009): the multipart body is streamed to a private temporary
 * file (busboy, bounded by MAX_UPLOAD_MB while it is read), an import record is reserved as
 * `running`, the request is answered 202 with its number, and the file is imported in the
 * background from that file, exactly as the CLI would (bounded memory), one upload at a time per
 * process. The dashboard follows it through GET /api/imports/{id} (`progress`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import type { Db } from "../db/index.ts";
import { databaseDeadline } from "../db/mutex.ts";
import { DomainError } from "../domain/errors.ts";
import { ingestSource } from "../ingest/ingest.ts";
import type { IngestFileResult, IngestOptions } from "../ingest/result.ts";
import { combineResults } from "../ingest/tddui.ts";
import { finishImportRecord } from "../sql/imports.ts";

/** A received upload: its sanitised name and the private temporary file holding it. */
export interface ReceivedUpload {
  name: string;
  path: string;
  bytes: number;
  /** deletes the temporary folder */
  discard(): void;
}

/** Room for the multipart envelope (boundaries, part headers) beside the file itself. */
const ENVELOPE_BYTES = 64 * 1024;

/** Longest file name kept (characters); the name is a label, never a path on our disk. */
const MAX_NAME = 200;

/** Controls, C1, line separators and bidirectional overrides: removed from file names. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
const UNSAFE_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** A client's file name as a label: no folder, no control character, bounded. */
export function uploadName(raw: string | undefined): string {
  const base = (raw ?? "").split(/[/\\]/).pop() ?? "";
  const clean = base.replace(UNSAFE_IN_NAME, "").trim();
  return clean.slice(0, MAX_NAME) || "export.csv";
}

/**
 * Streams the multipart body's `file` field to a private temporary file (mode 0600, in a fresh
 * folder, under a name of ours). Errors (French, DomainError): 413 over `maxBytes`, 400 when the
 * body is not multipart, holds no `file` field or is cut short.
 */
export async function receiveUpload(
  body: globalThis.ReadableStream<Uint8Array> | null,
  contentType: string | undefined,
  declaredLength: string | undefined,
  maxBytes: number,
  limitName = "MAX_UPLOAD_MB",
): Promise<ReceivedUpload> {
  if (!body || !contentType?.toLowerCase().startsWith("multipart/form-data"))
    throw new DomainError(
      "bad_request",
      "corps multipart/form-data attendu, avec le fichier dans le champ file",
    );
  const tooLarge = () =>
    new DomainError(
      "payload_too_large",
      `fichier trop volumineux : ${Math.round(maxBytes / 1024 / 1024)} Mo au plus${limitName ? ` (${limitName})` : ""}`,
    );
  // The whole body: the file plus the multipart envelope, bounded before and while it is read.
  const maxBody = maxBytes + ENVELOPE_BYTES;
  if (declaredLength !== undefined && Number(declaredLength) > maxBody) throw tooLarge();
  const dir = mkdtempSync(join(tmpdir(), "cibles-envoi-"));
  const path = join(dir, "fichier");
  const discard = () => rmSync(dir, { recursive: true, force: true });
  try {
    const received = await new Promise<{ name: string; bytes: number }>((resolve, reject) => {
      let parser: busboy.Busboy;
      try {
        parser = busboy({
          headers: { "content-type": contentType },
          // One byte over the limit is what tells a file of exactly `maxBytes` from a larger one.
          limits: {
            fileSize: maxBytes + 1,
            files: 1,
            fields: 10,
            fieldSize: 1024,
            parts: 12,
            headerPairs: 20,
          },
        });
      } catch {
        reject(new DomainError("bad_request", "corps multipart illisible (en-tête Content-Type incomplet)"));
        return;
      }
      let file: Promise<{ name: string; bytes: number }> | null = null;
      parser.on("file", (field, stream, info) => {
        // A part cut short (no closing boundary) errors its stream: always listened to, or the
        // process would die of an unhandled 'error' event.
        stream.on("error", () => reject(new DomainError("bad_request", "corps multipart illisible")));
        if (field !== "file" || file) {
          stream.resume();
          return;
        }
        file = (async () => {
          const out = await open(path, "wx", 0o600);
          let bytes = 0;
          try {
            for await (const chunk of stream as AsyncIterable<Buffer>) {
              bytes += chunk.length;
              await out.write(chunk);
            }
          } finally {
            await out.close();
          }
          if ((stream as { truncated?: boolean }).truncated || bytes > maxBytes) throw tooLarge();
          return { name: uploadName(info.filename), bytes };
        })();
        file.catch(() => {}); // awaited at "close"
      });
      parser.on("error", () => reject(new DomainError("bad_request", "corps multipart illisible")));
      parser.on("close", () => {
        if (!file) reject(new DomainError("bad_request", "fichier attendu dans le champ file"));
        else file.then(resolve, reject);
      });
      const source = Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>);
      let total = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _enc, done) {
          total += chunk.length;
          done(total > maxBody ? tooLarge() : null, chunk);
        },
      });
      const fail = (e: unknown) =>
        reject(
          e instanceof DomainError
            ? e
            : new DomainError("bad_request", "envoi interrompu avant la fin du fichier"),
        );
      source.on("error", fail);
      counted.on("error", (e) => {
        fail(e);
        source.destroy();
      });
      source.pipe(counted).pipe(parser);
    });
    return { ...received, path, discard };
  } catch (e) {
    discard();
    throw e;
  }
}

/** Uploads waiting or running per process: beyond, 503 (each may hold MAX_UPLOAD_MB on disk). */
export const MAX_QUEUED_UPLOADS = 8;

/** Rows per merged chunk for uploads on PGlite (ADR 0009): each merge statement stays short. */
export const PGLITE_UPLOAD_CHUNK_ROWS = 20_000;
/** Rows per merged chunk for uploads on PostgreSQL. */
export const PG_UPLOAD_CHUNK_ROWS = 25_000;

export interface UploadJob {
  importId: number;
  upload: ReceivedUpload;
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
      await finishImportRecord(this.db, job.importId, first.status, first.message ?? null);
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
