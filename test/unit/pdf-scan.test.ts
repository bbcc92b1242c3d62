/**
 * The checks of a PDF proof (issue 29 §8, ADR 0022): the byte checks of domain/pdf-scan.ts one by
 * one, then the whole inspection (ingest/pdf-check.ts, pdf-lib's walk) on every hostile PDF of
 * test/support/proofs.ts — each refused for its reason — and on clean PDFs as PDFKit, pdf-lib and
 * a hand writer make them, accepted; random stream data gives no false alarm.
 */
import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  hidesExecutable,
  hidesObjectHeader,
  nameFindings,
  PDF_FINDINGS,
  type PdfFinding,
  pdfEndFinding,
  pdfRefusal,
  readName,
  scanPdfBytes,
  streamSpans,
} from "../../domain/pdf-scan.ts";
import { inspectPdf } from "../../ingest/pdf-check.ts";
import {
  cleanHandPdf,
  cleanObjectStreamPdf,
  cleanPdfkitPdf,
  containsText,
  elfBytes,
  handPdf,
  hostilePdfs,
  javascriptInObjectStream,
  MARKER,
  miniZip,
  noise,
  onePage,
} from "../support/proofs.ts";
import { sampled } from "../support/sampling.ts";

/** Property runs: sampled in the quick tier (ADR 0020), all of them in `npm test`. */
const RUNS = sampled({ quick: 100, full: 300 });

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

describe("names, as a PDF reader reads them", () => {
  it("decodes #xx escapes in either case and tells an escaped letter or digit (an obfuscation) from a needed one", () => {
    expect(readName(bytes("/J#61vaScript "), 0)).toMatchObject({ name: "JavaScript", obfuscated: true });
    expect(readName(bytes("/#4aavaScript/"), 0)).toMatchObject({ name: "JavaScript", obfuscated: true });
    expect(readName(bytes("/#4AavaScript>"), 0)).toMatchObject({ name: "JavaScript", obfuscated: true });
    expect(readName(bytes("/Times#20New#20Roman "), 0)).toMatchObject({
      name: "Times New Roman",
      obfuscated: false,
    });
    expect(readName(bytes("/Launch"), 0)).toMatchObject({ name: "Launch", end: 7, obfuscated: false });
  });

  it("refuses an /OpenAction that is an action, not one that is a page to open at", () => {
    const find = (s: string) => [...nameFindings(bytes(s), { start: 0, end: s.length }, true)];
    expect(find("<< /OpenAction << /S /GoTo /D [3 0 R /Fit] >> >>")).toEqual(["auto_action"]);
    expect(find("<< /OpenAction [3 0 R /Fit] >>")).toEqual([]);
    expect(find("<< /OpenAction %commentaire\n<</S/URI>> >>")).toEqual(["auto_action"]);
    // In stream data only the long names count: /JS or /AA may occur by chance in binary data.
    expect([...nameFindings(bytes("/JS /AA /XFA"), { start: 0, end: 12 }, false)]).toEqual([]);
    expect([...nameFindings(bytes("x/JavaScript("), { start: 0, end: 13 }, false)]).toEqual(["javascript"]);
  });
});

describe("streams, objects and executables hidden in the bytes", () => {
  it("finds stream data by PDF's lexical rules: a `stream` in a comment or a string starts nothing", () => {
    const pdf = bytes(
      "1 0 obj << >> stream\r\nABC\nendstream endobj % stream\n(a stream\n) 2 0 obj<<>>stream\nX endstream",
    );
    const { spans, unterminated } = streamSpans(pdf);
    expect(unterminated).toBe(false);
    expect(spans.map((s) => Buffer.from(pdf.subarray(s.start, s.end)).toString("latin1"))).toEqual([
      "ABC\n",
      "X ",
    ]);
    expect(streamSpans(bytes("1 0 obj << >> stream\nsans fin")).unterminated).toBe(true);
  });

  it("tells an indirect object's header hidden in stream data, not `endobj` nor numbers", () => {
    const has = (s: string) => hidesObjectHeader(bytes(s), { start: 0, end: s.length });
    expect(has("9 0 obj << /S /URI >> endobj")).toBe(true);
    expect(has("xx\n12  0\nobj<<")).toBe(true);
    expect(has("endobj 1 0 0 1 50 700 Tm (objet) Tj")).toBe(false);
    expect(has("0 obj")).toBe(false);
  });

  it("finds a ZIP, an ELF or a Windows executable wherever it is, and nothing in random data", () => {
    expect(hidesExecutable(miniZip())).toBe(true);
    expect(hidesExecutable(new Uint8Array(Buffer.concat([noise(100_000), miniZip()])))).toBe(true);
    expect(hidesExecutable(new Uint8Array(Buffer.concat([noise(1000), elfBytes(), noise(1000)])))).toBe(true);
    const pe = new Uint8Array(512);
    pe.set([0x4d, 0x5a]);
    pe.set([0x80, 0, 0, 0], 0x3c);
    pe.set([0x50, 0x45, 0, 0], 0x80);
    expect(hidesExecutable(new Uint8Array(Buffer.concat([noise(300), pe])))).toBe(true);
    for (let seed = 1; seed <= 8; seed++) expect(hidesExecutable(noise(1 << 20, seed))).toBe(false);
  });

  it("ends a PDF at its last %%EOF: whitespace may follow, nothing else", () => {
    expect(pdfEndFinding(bytes("%PDF-1.7\n%%EOF\r\n \t\0"))).toBeNull();
    expect(pdfEndFinding(bytes("%PDF-1.7\n%%EOF\nPK"))).toBe("trailing_data");
    expect(pdfEndFinding(bytes("%PDF-1.7\n%%EOF\n%%EOF\n"))).toBeNull();
    expect(pdfEndFinding(bytes("%PDF-1.7\n"))).toBe("no_eof");
  });

  it("never throws, whatever the bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => {
        const prefixed = new Uint8Array(Buffer.concat([bytes("%PDF-1.7\n"), b]));
        expect(() => scanPdfBytes(prefixed)).not.toThrow();
      }),
      { numRuns: RUNS },
    );
  });
});

describe("a PDF proof inspected (bytes, then pdf-lib's walk)", () => {
  it.each(Object.entries(hostilePdfs()))("refuses « %s »", async (_name, { bytes: pdf, finding }) => {
    const found = await inspectPdf(pdf);
    expect(found).toContain(finding);
    const message = pdfRefusal(found);
    expect(message).toMatch(/^pièce refusée : ce PDF /);
    // The reason names what was found, never the file's bytes.
    expect(message).not.toContain(MARKER);
  });

  it("refuses pdf-lib's own JavaScript, packed in a compressed object stream the raw bytes do not show", async () => {
    const pdf = await javascriptInObjectStream();
    expect(containsText(pdf, "JavaScript")).toBe(false);
    expect(await inspectPdf(pdf)).toContain("javascript");
  });

  it("accepts clean PDFs as PDFKit, pdf-lib (object streams, a link, an /OpenAction page) and a hand writer make them", async () => {
    for (const pdf of [await cleanPdfkitPdf(), await cleanObjectStreamPdf(), cleanHandPdf()])
      expect(await inspectPdf(pdf)).toEqual([]);
  });

  it("gives no false alarm on 4 MB of random stream data (compressed images, fonts)", async () => {
    const data = noise(4 << 20, 7);
    const pdf = handPdf([
      ...onePage({ page: "/Resources << /XObject << /Im1 6 0 R >> >> " }),
      {
        body: "<< /Type /XObject /Subtype /Image /Width 1024 /Height 1024 /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /DCTDecode >>",
        stream: data,
      },
      { body: "<< /Filter /FlateDecode >>", stream: new Uint8Array(deflateSync(noise(1 << 20, 8))) },
    ]);
    expect(await inspectPdf(pdf)).toEqual([]);
  });

  it("words every finding in French, what a PDF contains apart from why it cannot be checked", () => {
    for (const f of Object.keys(PDF_FINDINGS) as PdfFinding[])
      expect(pdfRefusal([f])).toMatch(/^pièce refusée : ce PDF (contient|ne peut pas être vérifié : )/);
    expect(pdfRefusal(["javascript", "encrypted", "launch"])).toContain(
      "ce PDF contient du JavaScript et une commande de lancement de programme (Launch) ; ce PDF ne peut pas être vérifié : il est chiffré.",
    );
  });
});
