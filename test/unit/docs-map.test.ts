/**
 * The map is true (issue 28 §6): every `file#symbol` the README's « Suivre un chiffre » names is a
 * file that declares that symbol; every ADR has its date and status, and the ADR index lists each
 * one with the same title, date and status.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/files.ts";

const read = (rel: string) => readFileSync(join(ROOT, rel), "utf8");

/** Whether a source file declares `symbol` (TypeScript, SQL column or function, or an object key). */
function declares(file: string, symbol: string): boolean {
  const text = read(file);
  const name = symbol.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (file.endsWith(".sql"))
    return new RegExp(`\\bfunction\\s+${name}\\s*\\(|\\bas\\s+${name}\\b`, "i").test(text);
  return new RegExp(
    `\\b(function\\*?|const|let|class|interface|type|enum)\\s+${name}\\b|^\\s*${name}\\s*[:(]`,
    "m",
  ).test(text);
}

describe("the README's map of one figure", () => {
  const readme = read("README.md");
  const start = readme.indexOf("### Suivre un chiffre");
  const section = readme.slice(start, readme.indexOf("\n### ", start + 1));
  const refs = [...section.matchAll(/`([\w./-]+\.(?:ts|sql))(?:#([\w$]+))?`/g)].map((m) => ({
    file: m[1] as string,
    symbol: m[2],
  }));

  it("names files and symbols, at least one per step", () => {
    expect(start).toBeGreaterThan(0);
    expect(refs.length).toBeGreaterThanOrEqual(20);
  });

  it("names only files that exist and declare the symbol named", () => {
    const wrong = refs.flatMap(({ file, symbol }) =>
      !existsSync(join(ROOT, file))
        ? [`${file} : fichier absent`]
        : symbol && !declares(file, symbol)
          ? [`${file}#${symbol} : symbole absent`]
          : [],
    );
    expect(wrong).toEqual([]);
  });
});

describe("the decision records", () => {
  const adrs = readdirSync(join(ROOT, "docs", "adr"))
    .filter((f) => /^\d{4}-.+\.md$/.test(f))
    .sort();
  const index = read("docs/adr/README.md");

  it.each(adrs)("%s has a title, a date and a status, and a line in the index", (f) => {
    const text = read(`docs/adr/${f}`);
    const title = /^# (\d{4}) — (.+)$/m.exec(text);
    const meta = /^Date: (\d{4}-\d{2}-\d{2}) · Status: (\w+)/m.exec(text);
    expect(title, "titre « # NNNN — … »").not.toBeNull();
    expect(meta, "ligne « Date: AAAA-MM-JJ · Status: … »").not.toBeNull();
    const [, number, name] = title as RegExpExecArray;
    const [, date, status] = meta as RegExpExecArray;
    expect(f.startsWith(number as string)).toBe(true);
    expect(index).toContain(`| [${number}](${f}) | ${name} | ${status} | ${date} |`);
  });
});
