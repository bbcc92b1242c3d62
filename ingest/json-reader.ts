/**
 * A JSON reader for files we do not trust (ADR 0023): TDDUI Bundles, FHIR Bulk NDJSON and the
 * FINESS JSON feed. One pass over UTF-8 bytes, fed chunk by chunk, whose work is linear in the
 * bytes whatever their shape, and whose memory holds only what is read:
 *
 * - **Only what is picked is built.** A `Pick` says which members and items of each value are
 *   read; everything else is scanned and dropped as it passes (a 17 MB inline PDF in a resource
 *   that is not read becomes no string at all). The picked part of each streamed item (a Bundle's
 *   entry, an NDJSON line, a FINESS feed's `pmej`) is bounded by `maxItemBytes`, checked while it
 *   grows, never after.
 * - **Bounded nesting.** Beyond `maxDepth` open arrays and objects (64: FHIR resources are
 *   shallow) the document is refused, wherever it is (in an entry or outside).
 * - **Repeated keys are told, never read last-wins** (exports.md §6): among the picked members of
 *   an object (or every member, for a `Pick` with `allKeys`), a repeated name is reported as the
 *   JSON path of its second occurrence, the first value kept.
 * - **Where a fault is**: its byte offset in the bytes fed, and its JSON path
 *   (`entry[3].resource.status`).
 *
 * Why not @streamparser/json's parser: its token parser checks, at each value, every level of its
 * stack (`stack.every`, O(depth) per value: quadratic on `[[[[…]]]]`, 16 s for 200 KB) and builds
 * every value it is handed before the caller can drop it; its tokenizer is linear but gathers
 * every string whole, read or not. See ADR 0023.
 */

/** What to read of a value: its scalar, some members of an object, the items of an array. */
export interface Pick {
  /** a string, number, boolean or null here is kept */
  readonly scalar?: boolean;
  /** the members of an object kept, by name; the others are scanned and dropped */
  readonly keys?: Readonly<Record<string, Pick>>;
  /** each item of an array kept as this pick */
  readonly items?: Pick;
  /** the members not named in `keys`, kept as this pick (tests read whole documents with it) */
  readonly others?: Pick;
  /** the items of this array are handed over one by one (`onItem`) as they end, never kept */
  readonly stream?: boolean;
  /** every member of this object is checked for repeats, not only the picked ones */
  readonly allKeys?: boolean;
}

/** Why a document is not read (the caller says it in French). */
export type JsonFault =
  | "syntaxe"
  | "incomplet"
  | "vide"
  | "profondeur"
  | "valeur_trop_grande"
  | "trop_de_cles"
  | "liste_attendue";

export class JsonReadError extends Error {
  constructor(
    readonly fault: JsonFault,
    /** offset, in the bytes fed, of the byte at fault (the end of the input for `incomplet`) */
    readonly offset: number,
    /** JSON path where the reader was (`entry[3].resource.status`), "" at the top */
    readonly path: string,
  ) {
    super(`${fault} @${offset} ${path}`);
  }
}

/** One streamed item, as it ends: its picked part and where it was. */
export interface JsonItem {
  value: unknown;
  /** its index in its array; in `documents` mode, its ordinal among the documents (0-based) */
  index: number;
  /** the line it starts on (1-based) */
  line: number;
  /** JSON path (in the document) of the first repeated picked key inside it, or null */
  duplicate: string | null;
}

export interface JsonReaderOptions {
  /** what to read of the document (of each document, in `documents` mode) */
  pick: Pick;
  /** called with each streamed item (or each document, in `documents` mode) as it ends */
  onItem: (item: JsonItem) => void;
  /** most open arrays and objects at once (default 64) */
  maxDepth?: number;
  /** most bytes the picked part of one item (or of what is kept outside items) may weigh */
  maxItemBytes?: number;
  /** several documents one after the other (NDJSON: one per line), each an item */
  documents?: boolean;
  /** member names compared without case; kept under the pick's own spelling (the FINESS feed) */
  foldCase?: boolean;
}

/** FHIR resources are shallow: a Bundle's deepest element is ~12 levels down. */
export const MAX_JSON_DEPTH = 64;
/** Member names longer than this are never picked (and shown as « … » in a path). */
const MAX_KEY_BYTES = 1024;
/** Most distinct member names checked in an `allKeys` object (the Bundle's own fields). */
export const MAX_TRACKED_KEYS = 1024;
/** What one kept value costs besides its bytes (its slot, its object): weights the heap it takes. */
const SCALAR_WEIGHT = 16;
const CONTAINER_WEIGHT = 64;

interface Compiled {
  scalar: boolean;
  /** folded name → the pick's own name and pick */
  keys: Map<string, { name: string; pick: Compiled }> | null;
  items: Compiled | null;
  others: Compiled | null;
  stream: boolean;
  allKeys: boolean;
}

function compile(p: Pick, fold: boolean, seen = new Map<Pick, Compiled>()): Compiled {
  const done = seen.get(p);
  if (done) return done;
  const c: Compiled = {
    scalar: p.scalar === true,
    keys: null,
    items: null,
    others: null,
    stream: p.stream === true,
    allKeys: p.allKeys === true,
  };
  seen.set(p, c);
  if (p.keys) {
    c.keys = new Map();
    for (const [name, sub] of Object.entries(p.keys))
      c.keys.set(fold ? name.toLowerCase() : name, { name, pick: compile(sub, fold, seen) });
  }
  if (p.items) c.items = compile(p.items, fold, seen);
  if (p.others) c.others = compile(p.others, fold, seen);
  if (c.others) c.keys ??= new Map();
  return c;
}

/** One open array or object. */
interface Frame {
  obj: boolean;
  /** what is read of it; null: scanned and dropped */
  pick: Compiled | null;
  /** the value being built, or null */
  value: Record<string, unknown> | unknown[] | null;
  /** object: the current member's name as written (for paths); its pick and kept name */
  key: string;
  keyPick: Compiled | null;
  keyName: string;
  /** array: the current item's index */
  index: number;
  /** member names met (objects whose members are checked for repeats) */
  seen: Set<string> | null;
}

// Where the reader is between tokens.
enum St {
  Value, // a value must come
  ValueOrClose, // after `[`: a value or `]`
  KeyOrClose, // after `{`: a name or `}`
  Key, // after `,` in an object: a name
  Colon,
  AfterValue, // `,` or the container's end (or, at the top, the document's end)
  Done, // the document has ended (or, in `documents` mode, between documents)
  Str,
  Num,
  Lit,
}

// Inside a number (JSON's grammar).
enum N {
  Minus,
  Zero,
  Int,
  Dot,
  Frac,
  E,
  ESign,
  Exp,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LITERALS: Record<number, { text: Uint8Array; value: boolean | null }> = {
  116: { text: new TextEncoder().encode("true"), value: true },
  102: { text: new TextEncoder().encode("false"), value: false },
  110: { text: new TextEncoder().encode("null"), value: null },
};
const ESCAPES: Record<number, string> = {
  34: '"',
  92: "\\",
  47: "/",
  98: "\b",
  102: "\f",
  110: "\n",
  114: "\r",
  116: "\t",
};

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/**
 * The reader: `write` each chunk of UTF-8 bytes (a BOM already removed), then `end`. Items are
 * handed to `onItem` during `write`; a fault throws JsonReadError. Each chunk costs time linear in
 * its length.
 */
export class JsonReader {
  private readonly root: Compiled;
  private readonly onItem: (item: JsonItem) => void;
  private readonly maxDepth: number;
  private readonly maxItemBytes: number;
  private readonly documents: boolean;
  private readonly fold: boolean;

  private readonly frames: Frame[] = [];
  private depth = 0;
  private st: St = St.Value;
  /** bytes fed before the current chunk */
  private consumed = 0;
  private line = 1;
  private started = false;

  /** the top value, once it ends; while it is read, the object being built (its members so far) */
  private top: unknown;
  /** JSON path of the first repeated key outside streamed items */
  private topDuplicate: string | null = null;
  private topWeight = 0;

  // The current streamed item (depth at which it started, -1: none).
  private itemDepth = -1;
  private itemIndex = 0;
  private itemLine = 0;
  private itemWeight = 0;
  private itemDuplicate: string | null = null;
  private documentCount = 0;

  // The token being read.
  private tokKeep = false;
  private tokIsKey = false;
  private strParts: (string | Uint8Array)[] = [];
  private strBytes = 0;
  private strCapped = false;
  private escape = 0; // 0: none; 1: after `\`; 2–5: \u digits read
  private unicode = 0;
  private num: N = N.Minus;
  private lit: { text: Uint8Array; value: boolean | null } | null = null;
  private litAt = 0;

  constructor(opts: JsonReaderOptions) {
    this.fold = opts.foldCase === true;
    this.root = compile(opts.pick, this.fold);
    this.onItem = opts.onItem;
    this.maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
    this.maxItemBytes = opts.maxItemBytes ?? 16 << 20;
    this.documents = opts.documents === true;
  }

  /** What is read of the top value so far (its picked members), or undefined. */
  get value(): unknown {
    return this.depth > 0 ? (this.frames[0]?.value ?? undefined) : this.top;
  }

  /** JSON path of the first repeated key found outside streamed items, or null. */
  get duplicate(): string | null {
    return this.topDuplicate;
  }

  /** True once a whole document has been read (not in `documents` mode). */
  get ended(): boolean {
    return this.st === St.Done && !this.documents;
  }

  /** Bytes fed so far. */
  get offset(): number {
    return this.consumed;
  }

  write(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    try {
      while (i < n) {
        switch (this.st) {
          case St.Str:
            i = this.readString(chunk, i);
            break;
          case St.Num:
            i = this.readNumber(chunk, i);
            break;
          case St.Lit:
            i = this.readLiteral(chunk, i);
            break;
          default:
            i = this.readStructure(chunk, i);
        }
      }
    } finally {
      this.consumed += n;
    }
  }

  /** The input is over: a document left open (or none at all) is a fault. */
  end(): void {
    if (this.st === St.Num) {
      if (this.num !== N.Zero && this.num !== N.Int && this.num !== N.Frac && this.num !== N.Exp)
        throw this.fault("incomplet", this.consumed);
      this.endNumber(null, 0);
    }
    if (this.st === St.Done || (this.documents && this.st === St.Value && this.depth === 0)) {
      if (!this.started) throw this.fault("vide", this.consumed);
      return;
    }
    throw this.fault(this.started ? "incomplet" : "vide", this.consumed);
  }

  // Between tokens: whitespace, punctuation, and the first byte of each value.
  private readStructure(b: Uint8Array, from: number): number {
    const n = b.length;
    for (let i = from; i < n; i++) {
      const c = b[i] as number;
      if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
      if (c === 0x0a) {
        this.line += 1;
        continue;
      }
      switch (this.st) {
        case St.Done:
          if (!this.documents) throw this.fault("syntaxe", this.consumed + i);
          this.st = St.Value;
          return this.beginValue(b, i);
        case St.Value:
          return this.beginValue(b, i);
        case St.ValueOrClose:
          if (c === 0x5d) {
            this.close();
            continue;
          }
          return this.beginValue(b, i);
        case St.KeyOrClose:
        case St.Key:
          if (c === 0x7d && this.st === St.KeyOrClose) {
            this.close();
            continue;
          }
          if (c !== QUOTE) throw this.fault("syntaxe", this.consumed + i);
          this.beginString(true, null);
          return i + 1;
        case St.Colon:
          if (c !== 0x3a) throw this.fault("syntaxe", this.consumed + i);
          this.st = St.Value;
          continue;
        case St.AfterValue: {
          const f = this.frames[this.depth - 1] as Frame;
          if (c === 0x2c) {
            this.st = f.obj ? St.Key : St.Value;
            continue;
          }
          if ((c === 0x7d && f.obj) || (c === 0x5d && !f.obj)) {
            this.close();
            continue;
          }
          throw this.fault("syntaxe", this.consumed + i);
        }
        default:
          throw this.fault("syntaxe", this.consumed + i);
      }
    }
    return n;
  }

  /** The pick of the value starting now (null: not read), and the item bookkeeping. */
  private valuePick(): Compiled | null {
    if (this.depth === 0) {
      this.started = true;
      if (this.documents) this.startItem(this.documentCount++);
      return this.root;
    }
    const f = this.frames[this.depth - 1] as Frame;
    if (f.obj) return f.keyPick;
    f.index += 1;
    if (f.pick?.stream) {
      this.startItem(f.index);
      return f.pick.items;
    }
    return f.pick?.items ?? null;
  }

  private startItem(index: number): void {
    this.itemDepth = this.depth;
    this.itemIndex = index;
    this.itemLine = this.line;
    this.itemWeight = 0;
    this.itemDuplicate = null;
  }

  private beginValue(b: Uint8Array, i: number): number {
    const c = b[i] as number;
    const pick = this.valuePick();
    if (pick?.stream && c !== 0x5b) throw this.fault("liste_attendue", this.consumed + i);
    if (c === 0x7b || c === 0x5b) {
      if (this.depth >= this.maxDepth) throw this.fault("profondeur", this.consumed + i);
      const obj = c === 0x7b;
      const keep = pick !== null && (obj ? pick.keys !== null : pick.items !== null);
      const f = this.frameAt(this.depth);
      f.obj = obj;
      f.pick = keep ? pick : null;
      f.value = keep && !(pick as Compiled).stream ? (obj ? {} : []) : null;
      f.key = "";
      f.keyPick = null;
      f.keyName = "";
      f.index = -1;
      f.seen = null;
      if (f.value !== null) this.weigh(CONTAINER_WEIGHT, i);
      this.depth += 1;
      this.st = obj ? St.KeyOrClose : St.ValueOrClose;
      return i + 1;
    }
    if (c === QUOTE) {
      this.beginString(false, pick);
      return i + 1;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.tokKeep = pick?.scalar === true;
      this.tokIsKey = false;
      this.strParts = [];
      this.strBytes = 0;
      this.num = c === 0x2d ? N.Minus : c === 0x30 ? N.Zero : N.Int;
      this.st = St.Num;
      if (this.tokKeep) this.strParts.push(String.fromCharCode(c));
      return i + 1;
    }
    const lit = LITERALS[c];
    if (lit) {
      this.tokKeep = pick?.scalar === true;
      this.lit = lit;
      this.litAt = 1;
      this.st = St.Lit;
      return i + 1;
    }
    throw this.fault("syntaxe", this.consumed + i);
  }

  /** The frame of this depth: made when the depth is first reached, then reused. */
  private frameAt(depth: number): Frame {
    let f = this.frames[depth];
    if (!f) {
      f = { obj: false, pick: null, value: null, key: "", keyPick: null, keyName: "", index: -1, seen: null };
      this.frames[depth] = f;
    }
    return f;
  }

  private beginString(isKey: boolean, pick: Compiled | null): void {
    this.tokIsKey = isKey;
    this.tokKeep = isKey || pick?.scalar === true;
    this.strParts = [];
    this.strBytes = 0;
    this.strCapped = false;
    this.escape = 0;
    this.st = St.Str;
  }

  private readString(b: Uint8Array, from: number): number {
    const n = b.length;
    let i = from;
    while (i < n) {
      if (this.escape === 1) {
        const c = b[i] as number;
        const e = ESCAPES[c];
        if (e !== undefined) {
          this.append(e, 1, i);
          this.escape = 0;
        } else if (c === 0x75) {
          this.escape = 2;
          this.unicode = 0;
        } else throw this.fault("syntaxe", this.consumed + i);
        i += 1;
        continue;
      }
      if (this.escape >= 2) {
        const h = hexValue(b[i] as number);
        if (h < 0) throw this.fault("syntaxe", this.consumed + i);
        this.unicode = this.unicode * 16 + h;
        this.escape += 1;
        if (this.escape === 6) {
          this.append(String.fromCharCode(this.unicode), 1, i);
          this.escape = 0;
        }
        i += 1;
        continue;
      }
      // A run of plain bytes: up to a quote, a backslash or a control character.
      const start = i;
      let c = 0;
      while (i < n) {
        c = b[i] as number;
        if (c === QUOTE || c === BACKSLASH || c < 0x20) break;
        i += 1;
      }
      if (i > start) this.appendBytes(b, start, i);
      if (i === n) return n;
      if (c === QUOTE) {
        this.endString(i);
        return i + 1;
      }
      if (c === BACKSLASH) {
        this.escape = 1;
        i += 1;
        continue;
      }
      throw this.fault("syntaxe", this.consumed + i); // a raw control character in a string
    }
    return n;
  }

  private append(s: string, bytes: number, at: number): void {
    if (!this.tokKeep || this.strCapped) return;
    this.strBytes += bytes;
    if (this.checkStringSize(at)) this.strParts.push(s);
  }

  private appendBytes(b: Uint8Array, start: number, end: number): void {
    if (!this.tokKeep || this.strCapped) return;
    this.strBytes += end - start;
    if (this.checkStringSize(start)) this.strParts.push(b.subarray(start, end));
  }

  /** A kept string may not outgrow its bound; a name is cut at MAX_KEY_BYTES (never picked). */
  private checkStringSize(at: number): boolean {
    if (this.tokIsKey) {
      if (this.strBytes > MAX_KEY_BYTES) {
        this.strCapped = true;
        this.strParts = [];
        return false;
      }
      return true;
    }
    if (this.strBytes + SCALAR_WEIGHT + this.currentWeight() > this.maxItemBytes)
      throw this.fault("valeur_trop_grande", this.consumed + at);
    return true;
  }

  private currentWeight(): number {
    return this.itemDepth >= 0 ? this.itemWeight : this.topWeight;
  }

  private stringValue(): string {
    const parts = this.strParts;
    if (parts.length === 1) {
      const p = parts[0] as string | Uint8Array;
      return typeof p === "string" ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString("utf8");
    }
    // Runs of bytes are decoded together: a character may be split across chunks.
    let out = "";
    let run: Uint8Array[] = [];
    const flush = () => {
      if (run.length === 0) return;
      out += Buffer.concat(run).toString("utf8");
      run = [];
    };
    for (const p of parts) {
      if (typeof p === "string") {
        flush();
        out += p;
      } else run.push(p);
    }
    flush();
    return out;
  }

  private endString(at: number): void {
    this.st = St.AfterValue;
    if (this.tokIsKey) {
      const key = this.strCapped ? "…" : this.stringValue();
      this.strParts = [];
      this.setKey(this.strCapped ? null : key, key, at);
      this.st = St.Colon;
      return;
    }
    const value = this.tokKeep ? this.stringValue() : undefined;
    this.strParts = [];
    this.endScalar(value, this.tokKeep, this.strBytes, at);
  }

  /** A member's name has been read: its pick, and whether it repeats an earlier one. */
  private setKey(key: string | null, shown: string, at: number): void {
    const f = this.frames[this.depth - 1] as Frame;
    f.key = shown;
    f.keyPick = null;
    const pick = f.pick;
    if (pick === null || key === null) return;
    const folded = this.fold ? key.toLowerCase() : key;
    const entry = pick.keys?.get(folded) ?? (pick.others ? { name: key, pick: pick.others } : undefined);
    if (!entry && !pick.allKeys) return;
    f.seen ??= new Set();
    if (f.seen.has(folded)) {
      const path = this.path();
      if (this.itemDepth >= 0) this.itemDuplicate ??= path;
      else this.topDuplicate ??= path;
      return; // the first value is kept; this one is scanned and dropped
    }
    if (f.seen.size >= MAX_TRACKED_KEYS) throw this.fault("trop_de_cles", this.consumed + at);
    f.seen.add(folded);
    if (entry) {
      f.keyPick = entry.pick;
      f.keyName = entry.name;
    }
  }

  private readNumber(b: Uint8Array, from: number): number {
    const n = b.length;
    let i = from;
    const start = i;
    for (; i < n; i++) {
      const c = b[i] as number;
      const digit = c >= 0x30 && c <= 0x39;
      switch (this.num) {
        case N.Minus:
          if (!digit) throw this.fault("syntaxe", this.consumed + i);
          this.num = c === 0x30 ? N.Zero : N.Int;
          continue;
        case N.Zero:
          if (c === 0x2e) this.num = N.Dot;
          else if (c === 0x65 || c === 0x45) this.num = N.E;
          else return this.endNumber(b, start, i);
          continue;
        case N.Int:
          if (digit) continue;
          if (c === 0x2e) this.num = N.Dot;
          else if (c === 0x65 || c === 0x45) this.num = N.E;
          else return this.endNumber(b, start, i);
          continue;
        case N.Dot:
          if (!digit) throw this.fault("syntaxe", this.consumed + i);
          this.num = N.Frac;
          continue;
        case N.Frac:
          if (digit) continue;
          if (c === 0x65 || c === 0x45) this.num = N.E;
          else return this.endNumber(b, start, i);
          continue;
        case N.E:
          if (c === 0x2b || c === 0x2d) this.num = N.ESign;
          else if (digit) this.num = N.Exp;
          else throw this.fault("syntaxe", this.consumed + i);
          continue;
        case N.ESign:
          if (!digit) throw this.fault("syntaxe", this.consumed + i);
          this.num = N.Exp;
          continue;
        case N.Exp:
          if (digit) continue;
          return this.endNumber(b, start, i);
      }
    }
    if (this.tokKeep && n > start) {
      this.strBytes += n - start;
      this.checkStringSize(start);
      this.strParts.push(Buffer.from(b.subarray(start, n)).toString("latin1"));
    }
    return n;
  }

  /** A number ends at `end` (the byte there is not part of it: read again as structure). */
  private endNumber(b: Uint8Array | null, start: number, end?: number): number {
    let value: number | undefined;
    if (this.tokKeep) {
      if (b && end !== undefined && end > start) {
        this.strBytes += end - start;
        this.strParts.push(Buffer.from(b.subarray(start, end)).toString("latin1"));
      }
      value = Number(this.strParts.join(""));
    }
    this.strParts = [];
    this.st = St.AfterValue;
    this.endScalar(value, this.tokKeep, this.strBytes, end ?? start);
    return end ?? start;
  }

  private readLiteral(b: Uint8Array, from: number): number {
    const lit = this.lit as { text: Uint8Array; value: boolean | null };
    const n = b.length;
    let i = from;
    while (i < n && this.litAt < lit.text.length) {
      if (b[i] !== lit.text[this.litAt]) throw this.fault("syntaxe", this.consumed + i);
      this.litAt += 1;
      i += 1;
    }
    if (this.litAt === lit.text.length) {
      this.st = St.AfterValue;
      this.endScalar(lit.value, this.tokKeep, 4, i);
    }
    return i;
  }

  private weigh(w: number, at: number): void {
    if (this.itemDepth >= 0) {
      this.itemWeight += w;
      if (this.itemWeight > this.maxItemBytes) throw this.fault("valeur_trop_grande", this.consumed + at);
    } else {
      this.topWeight += w;
      if (this.topWeight > this.maxItemBytes) throw this.fault("valeur_trop_grande", this.consumed + at);
    }
  }

  private endScalar(value: unknown, kept: boolean, bytes: number, at: number): void {
    if (kept) this.weigh(SCALAR_WEIGHT + bytes, at);
    this.endValue(value, kept);
  }

  private close(): void {
    this.depth -= 1;
    const f = this.frames[this.depth] as Frame;
    const value = f.value;
    f.value = null;
    f.seen = null;
    this.st = St.AfterValue;
    this.endValue(value, value !== null);
  }

  /** A value has ended: handed over (an item), attached to its parent, or the top. */
  private endValue(value: unknown, kept: boolean): void {
    if (this.itemDepth === this.depth) {
      const item: JsonItem = {
        value: kept ? value : undefined,
        index: this.itemIndex,
        line: this.itemLine,
        duplicate: this.itemDuplicate,
      };
      this.itemDepth = -1;
      this.itemDuplicate = null;
      if (this.depth === 0) this.st = St.Done;
      this.onItem(item);
      return;
    }
    if (this.depth === 0) {
      this.top = kept ? value : undefined;
      this.st = St.Done;
      return;
    }
    if (!kept) return;
    const parent = this.frames[this.depth - 1] as Frame;
    const into = parent.value;
    if (into === null) return;
    if (parent.obj) {
      // An own property, as JSON.parse makes it: a key `__proto__` assigned would instead set
      // the object's prototype (the key lost, its members read as if they were the object's).
      if (parent.keyName === "__proto__")
        Object.defineProperty(into, "__proto__", {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else (into as Record<string, unknown>)[parent.keyName] = value;
    } else (into as unknown[]).push(value);
  }

  /** The JSON path where the reader is: `entry[3].resource.status`. */
  private path(): string {
    let out = "";
    for (let d = 0; d < this.depth; d++) {
      const f = this.frames[d] as Frame;
      if (f.obj) {
        if (f.key === "" && d === this.depth - 1 && this.st !== St.Colon && this.st !== St.Str) continue;
        out += out === "" ? f.key : `.${f.key}`;
      } else if (f.index >= 0) out += `[${f.index}]`;
    }
    return out;
  }

  private fault(fault: JsonFault, offset: number): JsonReadError {
    this.st = St.Done;
    return new JsonReadError(fault, offset, this.path());
  }
}
