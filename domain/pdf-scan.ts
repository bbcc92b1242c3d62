/**
 * The byte checks of a PDF proof (issue 29 §8, ADR 0022): pure functions over the file's bytes,
 * no parser, no I/O. They find what a PDF reader could act on without the reader's consent —
 * JavaScript, launch commands, automatic actions, embedded files, XFA forms, multimedia — in
 * every spelling of their names (`/J#61vaScript`), the end of the document (`%%EOF`, then only
 * whitespace), and files hidden in it (ZIP, ELF, PE executables; objects hidden in stream data).
 * `ingest/pdf-check.ts` adds a real parser's walk (object streams, compressed streams) on top.
 *
 * Findings are categories from a closed list, never the file's bytes.
 */

/**
 * What a PDF may not hold, each with its French label: what it contains (« ce PDF contient … »),
 * or why it cannot be checked (« ce PDF ne peut pas être vérifié : … »).
 */
export const PDF_FINDINGS = {
  javascript: { contains: "du JavaScript" },
  launch: { contains: "une commande de lancement de programme (Launch)" },
  auto_action: {
    contains: "une action automatique à l'ouverture, à la fermeture ou au survol (OpenAction, AA)",
  },
  embedded_file: { contains: "un fichier incorporé" },
  rich_media: { contains: "du contenu multimédia actif (RichMedia, 3D, son, vidéo)" },
  xfa: { contains: "un formulaire XFA" },
  form_action: { contains: "une action d'envoi ou d'import de données de formulaire" },
  remote_goto: { contains: "un renvoi vers un autre fichier (GoToR, GoToE)" },
  obfuscated_name: { contains: "des noms masqués par des échappements #xx" },
  hidden_object: { contains: "un objet PDF caché dans les données d'un flux" },
  html_script: { contains: "du code HTML ou un script (<script>, <html>)" },
  executable: { contains: "un programme exécutable ou une archive ZIP caché dans le fichier" },
  trailing_data: { contains: "des données après la fin du document (%%EOF)" },
  too_large_decoded: { contains: "des flux démesurés une fois décompressés" },
  encrypted: { unchecked: "il est chiffré" },
  no_eof: { unchecked: "la marque de fin de document (%%EOF) manque : fichier tronqué ou non PDF" },
  unterminated_stream: { unchecked: "un de ses flux n'a pas de fin (endstream)" },
  unreadable: { unchecked: "sa structure est illisible" },
  too_complex: { unchecked: "sa structure est trop complexe pour être vérifiée à temps" },
} as const satisfies Record<string, { contains: string } | { unchecked: string }>;

export type PdfFinding = keyof typeof PDF_FINDINGS;

/**
 * Names refused wherever their bytes appear, stream data included: long enough (≥ 6 characters
 * and a delimiter) never to occur by chance in compressed or image data.
 */
export const NAMES_ANYWHERE: Readonly<Record<string, PdfFinding>> = {
  JavaScript: "javascript",
  Launch: "launch",
  EmbeddedFile: "embedded_file",
  EmbeddedFiles: "embedded_file",
  FileAttachment: "embedded_file",
  RichMedia: "rich_media",
  RichMediaExecute: "rich_media",
  Rendition: "rich_media",
  SubmitForm: "form_action",
  ImportData: "form_action",
  Encrypt: "encrypted",
};

/** Names refused in the document's own syntax and in object streams (short, or common words). */
export const NAMES_IN_SYNTAX: Readonly<Record<string, PdfFinding>> = {
  ...NAMES_ANYWHERE,
  JS: "javascript",
  AA: "auto_action",
  XFA: "xfa",
  EF: "embedded_file",
  GoToE: "remote_goto",
  GoToR: "remote_goto",
  "3D": "rich_media",
  Movie: "rich_media",
  Sound: "rich_media",
};

const LF = 0x0a;
const CR = 0x0d;

/** PDF whitespace (ISO 32000-1 §7.2.2): NUL, HT, LF, FF, CR, SP. */
export function isPdfWhitespace(b: number | undefined): boolean {
  return b === 0x00 || b === 0x09 || b === LF || b === 0x0c || b === CR || b === 0x20;
}

/** PDF delimiters: ( ) < > [ ] { } / % */
function isDelimiter(b: number | undefined): boolean {
  return (
    b === 0x28 ||
    b === 0x29 ||
    b === 0x3c ||
    b === 0x3e ||
    b === 0x5b ||
    b === 0x5d ||
    b === 0x7b ||
    b === 0x7d ||
    b === 0x2f ||
    b === 0x25
  );
}

/** A byte that ends a token: whitespace, a delimiter, or the end of the bytes. */
function endsToken(b: number | undefined): boolean {
  return b === undefined || isPdfWhitespace(b) || isDelimiter(b);
}

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return -1;
}

/** A letter or a digit: what no PDF writer escapes as #xx, unless to hide a name. */
function isAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** A name token read at `at` (its `/`): its decoded text, where it ends, and whether an escape hid a letter or digit. */
export interface NameToken {
  name: string;
  end: number;
  obfuscated: boolean;
}

/**
 * The name token starting at `bytes[at]` (a `/`), `#xx` escapes decoded whatever the case of
 * their hexadecimal digits (`/J#61vaScript` and `/#4aavaScript` are `/JavaScript`).
 */
export function readName(bytes: Uint8Array, at: number): NameToken {
  let i = at + 1;
  let name = "";
  let obfuscated = false;
  while (i < bytes.length && !endsToken(bytes[i])) {
    const b = bytes[i] as number;
    if (b === 0x23) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        const code = hi * 16 + lo;
        if (isAlphanumeric(code)) obfuscated = true;
        name += String.fromCharCode(code);
        i += 3;
        continue;
      }
    }
    name += String.fromCharCode(b);
    i += 1;
  }
  return { name, end: i, obfuscated };
}

/** Decodes `#xx` escapes of a name already read by another parser (any case of hex digits). */
export function decodeNameEscapes(name: string): string {
  return name.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** Whether `bytes[at…]` spells `word` (ASCII). */
function spells(bytes: Uint8Array, at: number, word: string): boolean {
  if (at < 0 || at + word.length > bytes.length) return false;
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** Whether `bytes[at…]` spells `word`, ASCII letters in any case. */
function spellsIgnoringCase(bytes: Uint8Array, at: number, word: string): boolean {
  if (at < 0 || at + word.length > bytes.length) return false;
  for (let k = 0; k < word.length; k++) {
    const b = bytes[at + k] as number;
    const lower = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
    if (lower !== word.charCodeAt(k)) return false;
  }
  return true;
}

/** The index after `from` of the next occurrence of `word`, or -1. */
function indexOfWord(bytes: Uint8Array, word: string, from: number): number {
  const first = word.charCodeAt(0);
  for (let i = bytes.indexOf(first, from); i !== -1; i = bytes.indexOf(first, i + 1))
    if (spells(bytes, i, word)) return i;
  return -1;
}

/** A region of the file: [start, end). */
export interface Span {
  start: number;
  end: number;
}

/**
 * The stream data regions of a PDF (between `stream` + end of line and the next `endstream`),
 * found by PDF's lexical rules: comments, literal strings (nested parentheses, backslash escapes)
 * and hexadecimal strings are skipped, so that a `stream` inside them starts nothing. Readers
 * trust `/Length`; the next `endstream` is where a reader that distrusts it stops, and the bytes
 * after it are checked as syntax either way. A `stream` without `endstream` is reported.
 */
export function streamSpans(bytes: Uint8Array): { spans: Span[]; unterminated: boolean } {
  const spans: Span[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b === 0x25) {
      // comment: to the end of the line
      while (i < n && bytes[i] !== LF && bytes[i] !== CR) i++;
    } else if (b === 0x28) {
      let depth = 1;
      i++;
      while (i < n && depth > 0) {
        const c = bytes[i] as number;
        if (c === 0x5c) i += 2;
        else {
          if (c === 0x28) depth++;
          else if (c === 0x29) depth--;
          i++;
        }
      }
    } else if (b === 0x3c && bytes[i + 1] !== 0x3c) {
      const close = bytes.indexOf(0x3e, i + 1);
      i = close === -1 ? n : close + 1;
    } else if (b === 0x73 && spells(bytes, i, "stream") && (i === 0 || endsToken(bytes[i - 1]))) {
      let start = i + 6;
      // `stream` then CRLF or LF (a lone CR tolerated): the data begins after it.
      if (bytes[start] === CR && bytes[start + 1] === LF) start += 2;
      else if (bytes[start] === LF || bytes[start] === CR) start += 1;
      else {
        i += 6;
        continue;
      }
      const end = indexOfWord(bytes, "endstream", start);
      if (end === -1) return { spans, unterminated: true };
      spans.push({ start, end });
      i = end + 9;
    } else i++;
  }
  return { spans, unterminated: false };
}

/** The regions between the streams' data: the document's own syntax. */
export function syntaxSpans(length: number, streams: readonly Span[]): Span[] {
  const out: Span[] = [];
  let at = 0;
  for (const s of streams) {
    if (s.start > at) out.push({ start: at, end: s.start });
    at = s.end;
  }
  if (at < length) out.push({ start: at, end: length });
  return out;
}

/** Skips whitespace and comments from `at`; the index of the next token. */
function nextToken(bytes: Uint8Array, at: number, end: number): number {
  let i = at;
  while (i < end) {
    if (isPdfWhitespace(bytes[i])) i++;
    else if (bytes[i] === 0x25) while (i < end && bytes[i] !== LF && bytes[i] !== CR) i++;
    else break;
  }
  return i;
}

/**
 * Findings among the names of `bytes[span]`. `syntax`: the document's syntax (or a decoded object
 * stream): every name counts, an escaped letter or digit is an obfuscation, and an `/OpenAction`
 * that is a dictionary (an action, not a page to open at) is refused. Otherwise (stream data):
 * only NAMES_ANYWHERE. Strings and comments are not skipped: a name's bytes count wherever they
 * are (a reader sent there by a cross-reference offset would read them as a name).
 */
export function nameFindings(
  bytes: Uint8Array,
  span: Span,
  syntax: boolean,
  into: Set<PdfFinding> = new Set(),
): Set<PdfFinding> {
  const table = syntax ? NAMES_IN_SYNTAX : NAMES_ANYWHERE;
  for (let i = bytes.indexOf(0x2f, span.start); i !== -1 && i < span.end; i = bytes.indexOf(0x2f, i + 1)) {
    const token = readName(bytes.subarray(0, span.end), i);
    if (syntax && token.obfuscated) into.add("obfuscated_name");
    const found = table[token.name];
    if (found) into.add(found);
    if (syntax && token.name === "OpenAction") {
      const next = nextToken(bytes, token.end, span.end);
      if (bytes[next] === 0x3c && bytes[next + 1] === 0x3c) into.add("auto_action");
    }
  }
  return into;
}

/** Whether `bytes[from, to)` are all ASCII digits, at least one. */
function digitsBetween(bytes: Uint8Array, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let k = from; k < to; k++) {
    const b = bytes[k] as number;
    if (b < 0x30 || b > 0x39) return false;
  }
  return true;
}

/**
 * Whether `bytes[span]` holds an indirect object's header (`12 0 obj`): stream data never does,
 * unless an object was hidden there for a reader sent to it by a cross-reference offset.
 */
export function hidesObjectHeader(bytes: Uint8Array, span: Span): boolean {
  for (
    let i = indexOfWord(bytes, "obj", span.start);
    i !== -1 && i < span.end;
    i = indexOfWord(bytes, "obj", i + 1)
  ) {
    if (i + 3 > span.end || !endsToken(i + 3 < span.end ? bytes[i + 3] : undefined)) continue;
    // backwards: whitespace, generation digits, whitespace, object number digits, a token boundary
    let k = i - 1;
    if (!isPdfWhitespace(bytes[k])) continue;
    while (k > span.start && isPdfWhitespace(bytes[k])) k--;
    const genEnd = k + 1;
    while (k > span.start && (bytes[k] as number) >= 0x30 && (bytes[k] as number) <= 0x39) k--;
    if (!digitsBetween(bytes, k + 1, genEnd) || !isPdfWhitespace(bytes[k])) continue;
    while (k > span.start && isPdfWhitespace(bytes[k])) k--;
    const numEnd = k + 1;
    while (k >= span.start && (bytes[k] as number) >= 0x30 && (bytes[k] as number) <= 0x39) k--;
    if (digitsBetween(bytes, k + 1, numEnd) && (k < span.start || endsToken(bytes[k]))) return true;
  }
  return false;
}

const u16 = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u32 = (b: Uint8Array, at: number) => (u16(b, at) | (u16(b, at + 2) << 16)) >>> 0;

/** Compression methods of a ZIP entry (APPNOTE 4.4.5) a tool would extract. */
const ZIP_METHODS = new Set([0, 1, 6, 8, 9, 12, 14, 19, 93, 95, 98, 99]);

/** A ZIP local file header at `at` whose fields make sense (a random "PK\3\4" does not). */
function zipLocalHeaderAt(b: Uint8Array, at: number): boolean {
  if (!(b[at] === 0x50 && b[at + 1] === 0x4b && b[at + 2] === 0x03 && b[at + 3] === 0x04)) return false;
  const version = b[at + 4] ?? 255;
  const method = u16(b, at + 8);
  const nameLength = u16(b, at + 26);
  const extraLength = u16(b, at + 28);
  if (version > 63 || (b[at + 5] ?? 255) > 30 || !ZIP_METHODS.has(method)) return false;
  if (nameLength === 0 || nameLength > 1024 || extraLength > 4096 || at + 30 + nameLength > b.length)
    return false;
  for (let k = at + 30; k < at + 30 + nameLength; k++)
    if ((b[k] as number) < 0x20 || b[k] === 0x7f) return false;
  return true;
}

/** An ELF header at `at`: magic, class 1|2, data 1|2, version 1. */
function elfHeaderAt(b: Uint8Array, at: number): boolean {
  return (
    b[at] === 0x7f &&
    b[at + 1] === 0x45 &&
    b[at + 2] === 0x4c &&
    b[at + 3] === 0x46 &&
    (b[at + 4] === 1 || b[at + 4] === 2) &&
    (b[at + 5] === 1 || b[at + 5] === 2) &&
    b[at + 6] === 1
  );
}

/** A Windows executable at `at`: "MZ" whose e_lfanew points to "PE\0\0" within 64 KB. */
function peHeaderAt(b: Uint8Array, at: number): boolean {
  if (!(b[at] === 0x4d && b[at + 1] === 0x5a)) return false;
  const pe = u32(b, at + 0x3c);
  if (pe < 0x40 || pe > 0x10000) return false;
  const p = at + pe;
  return b[p] === 0x50 && b[p + 1] === 0x45 && b[p + 2] === 0 && b[p + 3] === 0;
}

/**
 * Whether `bytes` hide an executable or an archive anywhere: an ELF or PE header, a ZIP local
 * file header whose fields make sense, or a ZIP end-of-central-directory record in the last
 * 64 KB + 22 bytes (where every ZIP reader looks for one: a ZIP appended to a PDF opens as a ZIP).
 */
export function hidesExecutable(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(0x7f); i !== -1; i = bytes.indexOf(0x7f, i + 1))
    if (elfHeaderAt(bytes, i)) return true;
  for (let i = bytes.indexOf(0x4d); i !== -1; i = bytes.indexOf(0x4d, i + 1))
    if (peHeaderAt(bytes, i)) return true;
  for (let i = bytes.indexOf(0x50); i !== -1; i = bytes.indexOf(0x50, i + 1)) {
    if (bytes[i + 1] !== 0x4b) continue;
    if (zipLocalHeaderAt(bytes, i)) return true;
    if (i >= bytes.length - 65_557 && bytes[i + 2] === 0x05 && bytes[i + 3] === 0x06) return true;
  }
  return false;
}

/** Whether `bytes` hold an HTML script or document opening tag (`<script`, `<html`), in any case. */
export function hidesHtml(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(0x3c); i !== -1; i = bytes.indexOf(0x3c, i + 1))
    if (spellsIgnoringCase(bytes, i + 1, "script") || spellsIgnoringCase(bytes, i + 1, "html")) return true;
  return false;
}

/**
 * The end of the document: the last `%%EOF` followed only by whitespace. A ZIP, an ELF, HTML or
 * anything else appended after it is `trailing_data`; no `%%EOF` at all is `no_eof`.
 */
export function pdfEndFinding(bytes: Uint8Array): PdfFinding | null {
  const marker = [0x25, 0x25, 0x45, 0x4f, 0x46];
  let last = -1;
  for (let i = bytes.lastIndexOf(0x25); i >= 0; i = i === 0 ? -1 : bytes.lastIndexOf(0x25, i - 1)) {
    if (marker.every((m, k) => bytes[i + k] === m)) {
      last = i;
      break;
    }
  }
  if (last === -1) return "no_eof";
  for (let i = last + 5; i < bytes.length; i++) if (!isPdfWhitespace(bytes[i])) return "trailing_data";
  return null;
}

/**
 * Every finding of the byte checks on a whole PDF file: its end, its executables and HTML, its
 * stream regions (terminated, no object hidden in them), the names of its syntax and of its
 * stream data. Empty: nothing the bytes alone refuse (the parser's walk comes next).
 */
export function scanPdfBytes(bytes: Uint8Array): Set<PdfFinding> {
  const found = new Set<PdfFinding>();
  const end = pdfEndFinding(bytes);
  if (end) found.add(end);
  if (hidesExecutable(bytes)) found.add("executable");
  if (hidesHtml(bytes)) found.add("html_script");
  const { spans, unterminated } = streamSpans(bytes);
  if (unterminated) found.add("unterminated_stream");
  for (const s of spans) {
    nameFindings(bytes, s, false, found);
    if (hidesObjectHeader(bytes, s)) found.add("hidden_object");
  }
  for (const s of syntaxSpans(bytes.length, spans)) nameFindings(bytes, s, true, found);
  return found;
}

/** The findings in a fixed order (the order of PDF_FINDINGS), for messages and tests. */
export function orderedFindings(found: Iterable<PdfFinding>): PdfFinding[] {
  const set = new Set(found);
  return (Object.keys(PDF_FINDINGS) as PdfFinding[]).filter((f) => set.has(f));
}

/** « a, b et c » */
function frenchList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} et ${items.at(-1)}`;
}

/** The French reason a PDF proof is refused for these findings (never the file's bytes). */
export function pdfRefusal(found: Iterable<PdfFinding>): string {
  const list = orderedFindings(found).map(
    (f) => PDF_FINDINGS[f] as { contains?: string; unchecked?: string },
  );
  const contains = list.flatMap((l) => (l.contains ? [l.contains] : []));
  const unchecked = list.flatMap((l) => (l.unchecked ? [l.unchecked] : []));
  const parts = [
    ...(contains.length > 0 ? [`ce PDF contient ${frenchList(contains)}`] : []),
    ...(unchecked.length > 0 ? [`ce PDF ne peut pas être vérifié : ${frenchList(unchecked)}`] : []),
  ];
  return `pièce refusée : ${parts.join(" ; ")}. Un PDF justificatif ne doit contenir ni contenu actif ni contenu caché (JavaScript, actions automatiques, lancement de programme, fichiers incorporés, formulaires XFA, multimédia, données après la fin du document) ni être chiffré : enregistrez-le à nouveau en PDF (« Imprimer » puis « Enregistrer au format PDF ») et renvoyez-le.`;
}
