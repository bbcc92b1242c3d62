/**
 * A PDF read back with Mozilla's pdf.js, as a reader sees it: its pages, its text, and each piece
 * of text with its position (points from the page's bottom-left corner) to check the layout.
 */
import { join } from "node:path";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { ROOT } from "./helpers.ts";

export interface PdfItem {
  page: number;
  str: string;
  /** left edge, points */
  x: number;
  /** baseline, points from the bottom of the page */
  y: number;
  width: number;
  /** the font's height, points */
  height: number;
}

export async function readPdf(
  bytes: ArrayBuffer | Uint8Array,
): Promise<{ pages: number; text: string; items: PdfItem[] }> {
  const pdf = await getDocument({
    // A copy as a plain Uint8Array (pdf.js refuses a Buffer, and takes over what it is given).
    data: bytes instanceof Uint8Array ? new Uint8Array(bytes) : new Uint8Array(bytes),
    standardFontDataUrl: `${join(ROOT, "node_modules", "pdfjs-dist", "standard_fonts")}/`,
  }).promise;
  let text = "";
  const items: PdfItem[] = [];
  for (let p = 1; p <= pdf.numPages; p++) {
    const content = await (await pdf.getPage(p)).getTextContent();
    text += `${content.items.map((i) => ("str" in i ? i.str : "")).join(" ")}\n`;
    for (const i of content.items)
      if ("str" in i && i.str.trim() !== "")
        items.push({
          page: p,
          str: i.str,
          x: i.transform[4] as number,
          y: i.transform[5] as number,
          width: i.width,
          height: i.height,
        });
  }
  return { pages: pdf.numPages, text: text.replace(/\s+/g, " "), items };
}
