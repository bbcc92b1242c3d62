/**
 * Every error csv-parse can raise from a file's content has a French message of ours (issue 16
 * §1): the codes are read from the installed library itself, so an upgrade that adds one fails
 * here. Codes about parser options cannot come from a file (our options are fixed) and fall back
 * to the generic French message, never the library's English.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CSV_ERROR_MESSAGES, csvMessage } from "../../ingest/csv.ts";
import { ROOT } from "../support/files.ts";

/** The error codes written in the library's sources. */
function libraryCodes(): string[] {
  const dir = join(ROOT, "node_modules", "csv-parse", "lib");
  const files = readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(".js"));
  const text = files.map((f) => readFileSync(join(dir, String(f)), "utf8")).join("\n");
  return [...new Set([...text.matchAll(/"((?:CSV|INVALID)_[A-Z_]+)"/g)].map((m) => m[1] as string))].sort();
}

const ABOUT_OPTIONS =
  /OPTION|ARGUMENT|COLUMN_DEFINITION|COLUMN_MAPPING|COLUMNS_MISSING_NAME|REQUIRES_COLUMNS/;
const ENGLISH = /\b(Invalid|quote|found|field|record|expected|columns?|option|delimiter)\b/;

describe("csv-parse's errors in French", () => {
  it("maps every code a file's content can raise, and never lets the library's text through", () => {
    const codes = libraryCodes();
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes.filter((c) => !ABOUT_OPTIONS.test(c)))
      expect(CSV_ERROR_MESSAGES[code], code).toBeDefined();
    for (const code of codes) {
      const message = csvMessage(
        Object.assign(new Error(`Invalid Opening Quote: a quote is found on field 6`), { code, lines: 4 }),
      );
      expect(message, code).toMatch(/^fichier CSV illisible \(ligne 4\) : /);
      expect(message, code).not.toMatch(ENGLISH);
    }
  });
});
