/**
 * A ZIP written while it is sent (issue 29 §4, ADR 0022): each entry is added when the reader
 * asks for more, so that the download starts at once and the server holds one slice at a time,
 * whatever the archive's size. Small files (text, the synthesis) are deflated; large ones (the
 * proofs, PDF and images already compressed) are stored as they come, slice by slice, their CRC
 * computed on the way (fflate's streaming `Zip`; sizes in data descriptors). Nothing is built on
 * the thread ahead of the reader, and between two chunks the event loop answers other requests.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";

/** One entry: small bytes (deflated) or slices read on demand (stored). */
export type ZipEntry =
  | { name: string; bytes: Uint8Array }
  | { name: string; slices: () => AsyncIterable<Uint8Array> };

/** The archive's bytes, produced as they are read. */
async function* zipChunks(entries: readonly ZipEntry[]): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, data) => {
    if (err) failure = err;
    else out.push(data);
  });
  function* flush(): Generator<Uint8Array> {
    if (failure) throw failure;
    let chunk = out.shift();
    while (chunk) {
      yield chunk;
      chunk = out.shift();
    }
  }
  for (const entry of entries) {
    if ("bytes" in entry) {
      const file = new ZipDeflate(entry.name, { level: 6 });
      zip.add(file);
      file.push(entry.bytes, true);
      yield* flush();
    } else {
      const file = new ZipPassThrough(entry.name);
      zip.add(file);
      for await (const slice of entry.slices()) {
        file.push(slice);
        yield* flush();
      }
      file.push(new Uint8Array(0), true);
      yield* flush();
    }
  }
  zip.end();
  yield* flush();
}

/**
 * A ZIP of these entries as a web stream that produces its next bytes only when its reader asks
 * (no read-ahead: `highWaterMark` 0): memory stays at one slice plus the socket's buffers, and a
 * client that stops reading stops the reads. A failure after the first bytes (the headers are
 * sent) ends the stream in error, reported to `onError`; the client sees a cut download.
 */
export function zipStream(
  entries: readonly ZipEntry[],
  onError: (e: unknown) => void,
): ReadableStream<Uint8Array> {
  const chunks = zipChunks(entries);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // A turn of the event loop between two chunks: the embedded database answers in
          // microtasks and a fast socket drains in them too, so without it a download would hold
          // the loop from its first byte to its last (measured: /healthz waited for the whole pack).
          await nextTurn();
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (e) {
          onError(e);
          controller.error(e);
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
