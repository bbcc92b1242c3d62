/**
 * Proof files for the tests (issue 29 §8): clean PDFs, PNGs and JPEGs as real tools write them,
 * and hostile ones, one per kind of attack, written byte by byte (a PDF's cross-reference offsets
 * computed, object streams compressed as writers do). Payloads carry MARKER so that a test can
 * prove it is absent from what was stored and packed.
 */
import { deflateSync } from "node:zlib";
import { PDFDocument as LibDocument, PDFName, PDFString } from "pdf-lib";
import PDFDocument from "pdfkit";
import sharp from "sharp";

/** A string every hostile payload carries (and no clean file does). */
export const MARKER = "CHARGE-HOSTILE-29";

const enc = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** One object of a hand-written PDF: its body (dictionary, array…) and, for a stream, its data. */
export interface PdfObject {
  body: string;
  stream?: Uint8Array;
}

/**
 * A PDF written by hand: header, objects numbered from 1 in order, a cross-reference table with
 * their true offsets, a trailer (`/Root 1 0 R` and `trailer` added), `%%EOF`. A stream object's
 * `/Length` is written for it.
 */
export function handPdf(objects: readonly (string | PdfObject)[], trailer = ""): Uint8Array {
  const parts: Uint8Array[] = [enc("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")];
  let at = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    const obj = typeof o === "string" ? { body: o } : o;
    offsets.push(at);
    const head = obj.stream
      ? enc(`${i + 1} 0 obj\n${obj.body.replace(/>>\s*$/, ` /Length ${obj.stream.length} >>`)}\nstream\n`)
      : enc(`${i + 1} 0 obj\n${obj.body}\nendobj\n`);
    const part = obj.stream ? concat(head, obj.stream, enc("\nendstream\nendobj\n")) : head;
    parts.push(part);
    at += part.length;
  });
  const xref = [
    "xref",
    `0 ${objects.length + 1}`,
    "0000000000 65535 f ",
    ...offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n `),
    "trailer",
    `<< /Size ${objects.length + 1} /Root 1 0 R ${trailer}>>`,
    "startxref",
    String(at),
    "%%EOF",
    "",
  ].join("\n");
  return concat(...parts, enc(xref));
}

/** An object stream holding these objects (numbered `first`, `first + 1`…), Flate-compressed. */
export function objectStream(bodies: readonly string[], first: number): PdfObject {
  let offset = 0;
  const header: string[] = [];
  const texts: string[] = [];
  bodies.forEach((b, i) => {
    header.push(`${first + i} ${offset}`);
    texts.push(`${b}\n`);
    offset += Buffer.byteLength(`${b}\n`, "latin1");
  });
  const head = `${header.join(" ")}\n`;
  const data = deflateSync(Buffer.from(head + texts.join(""), "latin1"));
  return {
    body: `<< /Type /ObjStm /N ${bodies.length} /First ${Buffer.byteLength(head, "latin1")} /Filter /FlateDecode >>`,
    stream: new Uint8Array(data),
  };
}

const CONTENT = `BT /F1 18 Tf 72 720 Td (Attestation de la commission) Tj ET`;

/** The objects of a one-page document (catalog, pages, page, content, font), `catalog` and `page` extended. */
export function onePage({ catalog = "", page = "" } = {}): PdfObject[] {
  return [
    { body: `<< /Type /Catalog /Pages 2 0 R ${catalog}>>` },
    { body: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>" },
    {
      body: `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> ${page}>>`,
    },
    { body: "<< /Filter /FlateDecode >>", stream: new Uint8Array(deflateSync(CONTENT)) },
    { body: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>" },
  ];
}

/** A clean one-page PDF written by hand. */
export function cleanHandPdf(): Uint8Array {
  return handPdf(onePage());
}

/** A clean PDF as PDFKit writes it (the product's own synthesis is written by PDFKit). */
export function cleanPdfkitPdf(text = "Attestation : aucune donnée nominative"): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const doc = new PDFDocument({ size: "A4", info: { Title: "Pièce justificative" } });
    const chunks: Buffer[] = [];
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.fontSize(14).text(text);
    doc.text("Lien : ", { continued: true }).text("site de l'ARS", { link: "https://www.ars.sante.fr/" });
    doc.addPage().text("Page 2");
    doc.end();
  });
}

/**
 * A clean PDF as pdf-lib writes it, with object streams (compressed objects), a link annotation
 * (a URI action a person clicks) and an `/OpenAction` that is a page to open at, not an action.
 */
export async function cleanObjectStreamPdf(): Promise<Uint8Array> {
  const doc = await LibDocument.create();
  const page = doc.addPage([595, 842]);
  page.drawText("Attestation de la commission", { x: 72, y: 720, size: 18 });
  const link = doc.context.obj({
    Type: "Annot",
    Subtype: "Link",
    Rect: [72, 700, 300, 720],
    A: { S: "URI", URI: PDFString.of("https://www.ars.sante.fr/") },
  });
  page.node.set(PDFName.of("Annots"), doc.context.obj([doc.context.register(link)]));
  doc.catalog.set(PDFName.of("OpenAction"), doc.context.obj([page.ref, "Fit"]));
  return doc.save({ useObjectStreams: true });
}

/** pdf-lib's own JavaScript (`addJavaScript`): a Names tree entry, packed in a compressed object stream. */
export async function javascriptInObjectStream(): Promise<Uint8Array> {
  const doc = await LibDocument.create();
  doc.addPage().drawText("Attestation");
  doc.addJavaScript("ouverture", `app.alert("${MARKER}")`);
  return doc.save({ useObjectStreams: true });
}

/** A stored ZIP holding one file, in its three parts; `comment` ends its end record. */
function zipParts(comment: string) {
  const name = enc("lisez-moi.txt");
  const data = enc(`${MARKER}\n`);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + name.length, 12);
  end.writeUInt32LE(30 + name.length + data.length, 16);
  end.writeUInt16LE(comment.length, 20);
  return { local: concat(local, name, data), central: concat(central, name), end: concat(end, enc(comment)) };
}

/** A ZIP archive holding one stored file (a comment ending in `%%EOF` passes for a PDF's end). */
export function miniZip(comment = ""): Uint8Array {
  const z = zipParts(comment);
  return concat(z.local, z.central, z.end);
}

/** The first bytes of an x86-64 Linux executable (ELF header) and a marker. */
export function elfBytes(): Uint8Array {
  const h = Buffer.alloc(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(0x3e, 18); // x86-64
  return concat(h, enc(MARKER));
}

/** Each hostile PDF with the finding it must be refused for. */
export function hostilePdfs(): Record<string, { bytes: Uint8Array; finding: string }> {
  const js = `<< /S /JavaScript /JS (app.alert\\("${MARKER}"\\)) >>`;
  const clean = cleanHandPdf();
  const pages = onePage();
  const bomb = new Uint8Array(deflateSync(Buffer.alloc(80 * 1024 * 1024)));
  return {
    "JavaScript à l'ouverture (OpenAction)": {
      bytes: handPdf(onePage({ catalog: `/OpenAction ${js} ` })),
      finding: "javascript",
    },
    "JavaScript dans l'arbre des noms": {
      bytes: handPdf([...onePage({ catalog: "/Names << /JavaScript << /Names [(a) 6 0 R] >> >> " }), js]),
      finding: "javascript",
    },
    "Launch dans le /A d'une annotation": {
      bytes: handPdf(
        onePage({
          page: `/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /Launch /F (cmd.exe) /P (/c echo ${MARKER}) >> >>] `,
        }),
      ),
      finding: "launch",
    },
    "action automatique (/AA) d'une page": {
      bytes: handPdf(
        onePage({ page: `/AA << /O << /S /URI /URI (https://exemple.invalid/${MARKER}) >> >> ` }),
      ),
      finding: "auto_action",
    },
    "action automatique (/AA) d'une annotation": {
      bytes: handPdf(
        onePage({
          page: "/Annots [<< /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /AA << /E << /S /GoTo /D [3 0 R /Fit] >> >> >>] ",
        }),
      ),
      finding: "auto_action",
    },
    "action d'ouverture sans JavaScript (OpenAction en dictionnaire)": {
      bytes: handPdf(
        onePage({ catalog: `/OpenAction << /S /URI /URI (https://exemple.invalid/${MARKER}) >> ` }),
      ),
      finding: "auto_action",
    },
    "action d'ouverture par référence": {
      bytes: handPdf([...onePage({ catalog: "/OpenAction 6 0 R " }), "<< /S /GoTo /D [3 0 R /Fit] >>"]),
      finding: "auto_action",
    },
    "exécutable incorporé (/EmbeddedFiles)": {
      bytes: handPdf([
        ...onePage({ catalog: "/Names << /EmbeddedFiles << /Names [(outil.exe) 6 0 R] >> >> " }),
        "<< /Type /Filespec /F (outil.exe) /EF << /F 7 0 R >> >>",
        { body: "<< /Type /EmbeddedFile >>", stream: elfBytes() },
      ]),
      finding: "embedded_file",
    },
    "annotation RichMedia": {
      bytes: handPdf(
        onePage({ page: "/Annots [<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] >>] " }),
      ),
      finding: "rich_media",
    },
    "formulaire XFA dans l'AcroForm": {
      bytes: handPdf([
        ...onePage({ catalog: "/AcroForm << /Fields [] /XFA 6 0 R >> " }),
        { body: "<< >>", stream: new Uint8Array(deflateSync(`<xdp:xdp>${MARKER}</xdp:xdp>`)) },
      ]),
      finding: "xfa",
    },
    "nom échappé en hexadécimal (/J#61vaScript)": {
      bytes: handPdf(onePage({ catalog: `/OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >> ` })),
      finding: "obfuscated_name",
    },
    "nom échappé en minuscules (/#4aavaScript)": {
      bytes: handPdf([...onePage({ catalog: "/Names << /#4aavaScript 6 0 R >> " }), "<< /Names [] >>"]),
      finding: "obfuscated_name",
    },
    "JavaScript dans un flux d'objets compressé": {
      bytes: handPdf([
        { body: "<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>" },
        { body: "<< /Type /Pages /Kids [] /Count 0 >>" },
        objectStream([js], 4),
      ]),
      finding: "javascript",
    },
    "noms échappés dans un flux d'objets compressé": {
      bytes: handPdf([
        { body: "<< /Type /Catalog /Pages 2 0 R >>" },
        { body: "<< /Type /Pages /Kids [] /Count 0 >>" },
        objectStream(["<< /Type /Annot /#41#41 << /O << /S /J#53 >> >> >>"], 4),
      ]),
      finding: "obfuscated_name",
    },
    "/JavaScript dans un flux compressé quelconque": {
      bytes: handPdf([
        ...pages,
        {
          body: "<< /Filter /FlateDecode >>",
          stream: new Uint8Array(deflateSync(`/JavaScript (${MARKER})`)),
        },
      ]),
      finding: "javascript",
    },
    "objet caché dans les données d'un flux": {
      bytes: handPdf([
        ...pages,
        {
          body: "<< >>",
          stream: enc(`9 0 obj << /S /URI /URI (https://exemple.invalid/${MARKER}) >> endobj`),
        },
      ]),
      finding: "hidden_object",
    },
    "bombe de décompression dans un flux d'objets": {
      bytes: handPdf([
        { body: "<< /Type /Catalog /Pages 2 0 R >>" },
        { body: "<< /Type /Pages /Kids [] /Count 0 >>" },
        { body: "<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>", stream: bomb },
      ]),
      finding: "too_large_decoded",
    },
    "PDF chiffré": {
      bytes: handPdf(
        [...pages, "<< /Filter /Standard /V 1 /R 2 /O (x) /U (y) /P -4 >>"],
        "/Encrypt 6 0 R /ID [<00> <00>] ",
      ),
      finding: "encrypted",
    },
    "ZIP après %%EOF": { bytes: concat(clean, miniZip()), finding: "trailing_data" },
    "ELF après %%EOF": { bytes: concat(clean, elfBytes()), finding: "trailing_data" },
    "ZIP glissé avant un faux %%EOF": { bytes: concat(clean, miniZip("\n%%EOF\n")), finding: "executable" },
    "HTML et script après %%EOF": {
      bytes: concat(clean, enc(`<html><script>alert("${MARKER}")</script></html>`)),
      finding: "trailing_data",
    },
    "script HTML dans un commentaire": {
      bytes: concat(
        enc(`%PDF-1.7\n%<script>alert("${MARKER}")</script>\n`),
        clean.subarray(clean.indexOf(0x0a) + 1),
      ),
      finding: "html_script",
    },
    "mise à jour incrémentale qui ajoute du JavaScript": {
      bytes: concat(
        clean,
        enc(
          `1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>\nendobj\n6 0 obj\n${js}\nendobj\ntrailer\n<< /Size 7 /Root 1 0 R >>\n%%EOF\n`,
        ),
      ),
      finding: "javascript",
    },
    "PDF tronqué (sans %%EOF)": { bytes: clean.subarray(0, clean.length - 7), finding: "no_eof" },
  };
}

/** A PDF that starts after junk: not recognised as a PDF at all (415). */
export function pdfAfterJunk(): Uint8Array {
  return concat(enc(`<html><script>alert("${MARKER}")</script></html>\n`), cleanHandPdf());
}

/** A PNG of this size (a blue frame on white), as sharp writes it. */
export async function cleanPng(width = 320, height = 200): Promise<Uint8Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/><rect x="10" y="10" width="${width - 20}" height="${height - 20}" fill="none" stroke="#000091" stroke-width="6"/></svg>`;
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer());
}

/** A JPEG of this size, as sharp writes it. */
export async function cleanJpeg(width = 320, height = 200): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp(await cleanPng(width, height))
      .jpeg({ quality: 85 })
      .toBuffer(),
  );
}

/** A PNG chunk (length, type, data, CRC-32). */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const body = concat(enc(type), data);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return concat(head, body, crc);
}

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const SCRIPT = `<html><body><script>fetch("https://exemple.invalid/${MARKER}")</script></body></html>`;

/** Each hostile image with its type: trailing HTML, script in text chunks and comments. */
export async function hostileImages(): Promise<Record<string, { bytes: Uint8Array; type: "png" | "jpeg" }>> {
  const png = await cleanPng();
  const jpeg = await cleanJpeg();
  // after the signature (8 bytes) and IHDR (25 bytes): a text chunk
  const withChunk = (type: string, data: string) =>
    concat(png.subarray(0, 33), pngChunk(type, enc(data)), png.subarray(33));
  // after SOI (2 bytes): a COM segment
  const com = enc(`${SCRIPT}`);
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(com.length + 2, 2);
  return {
    "PNG suivi de HTML et d'un script": { bytes: concat(png, enc(SCRIPT)), type: "png" },
    "PNG avec un script dans un bloc tEXt": { bytes: withChunk("tEXt", `Comment\0${SCRIPT}`), type: "png" },
    "PNG avec un script dans un bloc iTXt": {
      bytes: withChunk("iTXt", `XML:com.adobe.xmp\0\0\0\0\0${SCRIPT}`),
      type: "png",
    },
    "PNG suivi d'un ZIP": { bytes: concat(png, miniZip()), type: "png" },
    "JPEG suivi de HTML et d'un script": { bytes: concat(jpeg, enc(SCRIPT)), type: "jpeg" },
    "JPEG avec un script en commentaire (COM)": {
      bytes: concat(jpeg.subarray(0, 2), segment, com, jpeg.subarray(2)),
      type: "jpeg",
    },
    "JPEG suivi d'un PDF": {
      bytes: concat(jpeg, handPdf(onePage({ catalog: `/OpenAction << /S /JavaScript /JS (${MARKER}) >> ` }))),
      type: "jpeg",
    },
  };
}

/** A PNG whose header announces 30 000 × 30 000 pixels (900 mégapixels): a decompression bomb. */
export async function pngBomb(): Promise<Uint8Array> {
  const png = await cleanPng(8, 8);
  const ihdr = Buffer.from(png.subarray(8, 33));
  ihdr.writeUInt32BE(30_000, 8);
  ihdr.writeUInt32BE(30_000, 12);
  ihdr.writeUInt32BE(crc32(ihdr.subarray(4, 21)), 21);
  return concat(png.subarray(0, 8), ihdr, png.subarray(33));
}

/** Whether `haystack` contains the bytes of `needle` (ASCII). */
export function containsText(haystack: Uint8Array, needle = MARKER): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(needle, 0, "latin1");
}

/** Deterministic pseudo-random bytes (xorshift32): what compressed or image data looks like. */
export function noise(length: number, seed = 2026): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A clean PDF of about `size` bytes: one page showing a scanned image (JPEG-coded data of that
 * size, never decoded by the check), as a scanner writes it. `seed` makes each one different.
 */
export function scannedPdf(size: number, seed = 1): Uint8Array {
  return handPdf([
    ...onePage({ page: "/Resources << /XObject << /Im1 6 0 R >> >> " }),
    {
      body: "<< /Type /XObject /Subtype /Image /Width 2480 /Height 3508 /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /DCTDecode >>",
      stream: noise(Math.max(1024, size - 1200), seed),
    },
  ]);
}
