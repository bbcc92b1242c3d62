/**
 * The bounded JSON reader (ingest/json-reader.ts, ADR 0023): it reads what JSON.parse reads and
 * refuses what it refuses, whatever the chunks; nesting is bounded, work linear in the bytes
 * whatever their shape, only what is picked is built (a string that is not read is never held),
 * repeated keys are told with their path, and a fault is placed at its byte offset — also in the
 * file as stored when it was UTF-16 or Windows-1252 (content.ts `Utf8Feed`).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Utf8Feed } from "../../ingest/content.ts";
import { type JsonItem, JsonReadError, JsonReader, type Pick } from "../../ingest/json-reader.ts";
import { sampled } from "../support/sampling.ts";

/** Property runs: sampled in the quick tier (ADR 0020), all of them in `npm test`. */
const RUNS = sampled({ quick: 100, full: 300 });

/** Every value kept, whatever its members: the reader then builds what JSON.parse builds. */
const ALL: Record<string, unknown> = { scalar: true };
ALL.items = ALL;
ALL.others = ALL;

function read(
  bytes: Uint8Array,
  opts: { pick?: Pick; chunk?: number; maxDepth?: number; documents?: boolean; maxItemBytes?: number } = {},
) {
  const items: JsonItem[] = [];
  const r = new JsonReader({
    pick: opts.pick ?? (ALL as Pick),
    onItem: (it) => items.push(it),
    ...(opts.maxDepth ? { maxDepth: opts.maxDepth } : {}),
    ...(opts.maxItemBytes ? { maxItemBytes: opts.maxItemBytes } : {}),
    documents: opts.documents === true,
  });
  const step = opts.chunk ?? 65536;
  for (let i = 0; i < bytes.length; i += step) r.write(bytes.subarray(i, i + step));
  r.end();
  return { value: r.value, duplicate: r.duplicate, items };
}

function fault(text: string | Uint8Array, opts: Parameters<typeof read>[1] = {}): JsonReadError {
  try {
    read(typeof text === "string" ? Buffer.from(text) : text, opts);
  } catch (e) {
    if (e instanceof JsonReadError) return e;
    throw e;
  }
  throw new Error("lu sans faute");
}

describe("the bounded JSON reader", () => {
  it("reads whatever JSON.parse reads, the same values, whatever the chunks", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 64 }), (v, chunk) => {
        const text = JSON.stringify(v, null, chunk % 3);
        const got = read(Buffer.from(text), { chunk }).value;
        expect(JSON.stringify(got)).toBe(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: RUNS },
    );
    // Escapes, surrogate pairs, multi-byte characters cut across chunks.
    const text =
      '{"é":"d\\u00e9j\\u00E0 \\ud83d\\ude00 😀 \\"\\\\\\/\\b\\f\\n\\r\\t","n":[-0.5e+3,0,1E2,-12]}';
    for (const chunk of [1, 2, 3, 5])
      expect(read(Buffer.from(text), { chunk }).value).toEqual(JSON.parse(text));
    // A key `__proto__` is an own member, as JSON.parse reads it, never the object's prototype
    // (found by the property above, once in a while).
    const proto = read(Buffer.from('{"__proto__":{"status":"finished"},"a":1}')).value as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(proto)).toBe('{"__proto__":{"status":"finished"},"a":1}');
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect((proto as { status?: unknown }).status).toBeUndefined();
  });

  it("refuses what JSON.parse refuses (prefixes of documents, malformed tokens)", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.nat(), (v, cut) => {
        const text = JSON.stringify(v);
        const prefix = text.slice(0, cut % (text.length + 1));
        let parsed = true;
        try {
          JSON.parse(prefix);
        } catch {
          parsed = false;
        }
        let ours = true;
        try {
          read(Buffer.from(prefix), { chunk: 7 });
        } catch (e) {
          expect(e).toBeInstanceOf(JsonReadError);
          ours = false;
        }
        expect(ours).toBe(parsed);
      }),
      { numRuns: RUNS },
    );
    for (const bad of [
      '{"a":}',
      "[1,]",
      '{"a":1,}',
      "01",
      '"\u0001"',
      "{'a':1}",
      "[1 2]",
      "tru",
      '"\\x"',
      "1.",
      "-",
      "{}x",
      "NaN",
    ])
      expect(() => read(Buffer.from(bad)), bad).toThrow(JsonReadError);
    expect(fault("").fault).toBe("vide");
    expect(fault('{"a":[1,2').fault).toBe("incomplet");
  });

  it("places a fault at its byte offset and JSON path", () => {
    const text = `{"entry":[{"resource":{"status":"ok"}},{"resource":{"status": tru}}]}`;
    const e = fault(text, { chunk: 4 });
    expect(e.fault).toBe("syntaxe");
    expect(e.offset).toBe(text.indexOf("tru") + 3);
    expect(e.path).toBe("entry[1].resource.status");
    // At byte 609, not « vers l'octet 0 » (issue 34).
    const far = `{"a":"${"x".repeat(601)}",!}`;
    expect(fault(far).offset).toBe(609);
  });

  it("bounds nesting: 64 levels read, the 65th refused at its byte, inside or outside what is read", () => {
    const nested = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    expect(read(Buffer.from(nested(64))).value).toBeDefined();
    const e = fault(nested(65));
    expect(e).toMatchObject({ fault: "profondeur", offset: 64 });
    // Outside the picked part, in a member that is never read.
    const outside = fault(`{"zz":${nested(200_000)}}`, { pick: { keys: { entry: { items: ALL as Pick } } } });
    expect(outside).toMatchObject({ fault: "profondeur", offset: 6 + 63 });
    expect(outside.path.startsWith("zz[0][0]")).toBe(true);
  });

  it("works in time linear in the bytes, whatever the nesting (the library took 5 s for 120 KB)", () => {
    // Nesting allowed beyond all reason here, to time the reader itself on a hostile shape.
    const hostile = (n: number) => Buffer.from(`{"zz":${"[".repeat(n)}${"]".repeat(n)},"entry":[]}`);
    const pick: Pick = { keys: { entry: { items: ALL as Pick, stream: true } } };
    const time = (b: Buffer) => {
      const t = performance.now();
      read(b, { pick, maxDepth: 10_000_000 });
      return performance.now() - t;
    };
    time(hostile(100_000)); // warm up
    const small = time(hostile(250_000));
    const large = time(hostile(1_000_000));
    // 2 MB of brackets in well under a second; four times the bytes, nowhere near 16 times the time.
    expect(large).toBeLessThan(2000);
    expect(large).toBeLessThan(Math.max(small, 20) * 10);
  });

  it("builds only what is picked: a long string or a wide object not read is never held", () => {
    const pick: Pick = { keys: { keep: { scalar: true } } };
    const body = Buffer.from(
      `{"skip":"${"A".repeat(64 << 20)}","wide":{${Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`).join(",")}},"keep":"ok"}`,
    );
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    const r = new JsonReader({ pick, onItem: () => {} });
    for (let i = 0; i < body.length; i += 65536) {
      r.write(body.subarray(i, i + 65536));
      if (i % (4 << 20) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
    }
    r.end();
    expect(r.value).toEqual({ keep: "ok" });
    // 64 MB of string and 200 000 members went by: a few MB of garbage at most lived meanwhile.
    expect(peak).toBeLessThan(24 << 20);
  });

  it("bounds what is read of an item, checked while it grows", () => {
    const pick: Pick = { keys: { entry: { items: { keys: { s: { scalar: true } } }, stream: true } } };
    const text = `{"entry":[{"s":"${"x".repeat(2 << 20)}"}]}`;
    const e = fault(text, { pick, maxItemBytes: 1 << 20 });
    expect(e.fault).toBe("valeur_trop_grande");
    expect(e.offset).toBeLessThan((1 << 20) + 100);
    expect(e.path).toBe("entry[0].s");
    // Many small picked values weigh their objects too: 10^6 empty objects are not 2 MB.
    const wide: Pick = { keys: { entry: { items: { keys: { a: { items: { keys: {} } } } }, stream: true } } };
    const many = `{"entry":[{"a":[${Array.from({ length: 1_000_000 }, () => "{}").join(",")}]}]}`;
    expect(fault(many, { pick: wide }).fault).toBe("valeur_trop_grande");
  });

  it("tells a repeated key among what is read, keeps the first value, and ignores one not read", () => {
    const pick: Pick = {
      allKeys: true,
      keys: {
        entry: {
          items: { keys: { status: { scalar: true }, subject: { keys: { reference: { scalar: true } } } } },
          stream: true,
        },
      },
    };
    const { items, duplicate } = read(
      Buffer.from(
        `{"entry":[{"status":"cancelled","status":"finished"},{"subject":{"reference":"a"},"subject":{"reference":"b"}},{"note":1,"note":2,"status":"x"}],"id":1}`,
      ),
      { pick },
    );
    expect(items.map((i) => [i.value, i.duplicate])).toEqual([
      [{ status: "cancelled" }, "entry[0].status"],
      [{ subject: { reference: "a" } }, "entry[1].subject"],
      [{ status: "x" }, null],
    ]);
    expect(duplicate).toBeNull();
    // Among an `allKeys` object's members (the Bundle's own fields), any repeat is told.
    expect(read(Buffer.from(`{"id":1,"entry":[],"id":2}`), { pick }).duplicate).toBe("id");
  });

  it("reads documents one per line (NDJSON), each placed by its line", () => {
    const text = `{"a":1}\n\n{"a":2,\n"b":3}\r\n{"a":4}`;
    const { items } = read(Buffer.from(text), { documents: true, chunk: 3 });
    expect(items.map((i) => [i.index, i.line, i.value])).toEqual([
      [0, 1, { a: 1 }],
      [1, 3, { a: 2, b: 3 }],
      [2, 5, { a: 4 }],
    ]);
  });

  it("compares names without case when asked, and keeps them under the pick's spelling", () => {
    const pick: Pick = { keys: { informationsGeneralesPmej: { keys: { numFinessPm: { scalar: true } } } } };
    const r = new JsonReader({ pick, foldCase: true, onItem: () => {} });
    r.write(Buffer.from(`{"INFORMATIONSgeneralesPMEJ":{"numfinesspm":"340000025"}}`));
    r.end();
    expect(r.value).toEqual({ informationsGeneralesPmej: { numFinessPm: "340000025" } });
  });
});

describe("offsets in the file as stored", () => {
  it("gives back the stored offset of a fault found in UTF-8, UTF-16 or Windows-1252 bytes", () => {
    const text = `{"é":"àéî","x":!}`;
    const stored: Record<string, Buffer> = {
      "utf-8": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      "utf-16le": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]),
      "windows-1252": Buffer.from(text, "latin1"),
    };
    const expected: Record<string, number> = {
      "utf-8": 3 + Buffer.byteLength(text.slice(0, text.indexOf("!"))),
      "utf-16le": 2 + 2 * text.indexOf("!"),
      "windows-1252": text.indexOf("!"),
    };
    for (const [encoding, bytes] of Object.entries(stored)) {
      const feed = new Utf8Feed(encoding as "utf-8");
      const r = new JsonReader({ pick: ALL as Pick, onItem: () => {} });
      let got = -1;
      try {
        for (let i = 0; i < bytes.length; i += 5) r.write(feed.convert(bytes.subarray(i, i + 5)));
      } catch (e) {
        got = feed.storedOffset((e as JsonReadError).offset);
      }
      expect({ encoding, got }).toEqual({ encoding, got: expected[encoding] });
    }
  });
});
