/**
 * Uploads (POST /api/imports, ADR 0009): the multipart body is streamed to a private temporary
 * file (busboy, bounded by MAX_UPLOAD_MB while it is read), an import record is reserved as
 * `running`, the request is answered 202 with its number, and the file is imported in the
 * background from that file, exactly as the CLI would (bounded memory), one upload at a time per
 * process. The dashboard follows it through GET /api/imports/{id} (`progress`).
 */
import { rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import busboy from "busboy";
import { machineFailure } from "../db/failures.ts";
import { DomainError } from "../domain/errors.ts";
import { tempFolder } from "../ingest/temp.ts";

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
 * Streams the request's multipart body's `file` field to a private temporary file (mode 0600, in
 * a fresh folder, under a name of ours). Errors (French, DomainError): 413 over `maxBytes` (its
 * configuration variable `limitName` named, if any), 400 when the body is not multipart, holds no
 * `file` field or is cut short.
 */
export async function receiveUpload(
  request: Request,
  maxBytes: number,
  limitName = "MAX_UPLOAD_MB",
): Promise<ReceivedUpload> {
  const body = request.body;
  const contentType = request.headers.get("content-type");
  const declaredLength = request.headers.get("content-length");
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
  if (declaredLength !== null && Number(declaredLength) > maxBody) throw tooLarge();
  const dir = tempFolder("envoi-");
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
          } catch (e) {
            // A full disk is the server's failure (507), told before the cut stream's own error.
            const failure = machineFailure(e);
            if (failure) reject(failure);
            throw failure ?? e;
          } finally {
            await out.close().catch(() => {});
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
