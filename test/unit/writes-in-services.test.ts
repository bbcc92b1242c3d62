/**
 * Writes have one layer (issue 28 §3, ADR 0021): a transaction is opened by a write verb of
 * services/ or by the importer (ingest/, whose verbs are imports), never by a route, a command or
 * the store. (`sql/named.ts` opens a read-only one to set a query's local settings.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/files.ts";

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : [],
  );
}

describe("who opens a transaction", () => {
  it("never a route, a command or the store", () => {
    const opening = ["api", "cli", "sql"]
      .flatMap(sources)
      .filter((f) => f !== "sql/named.ts")
      .filter((f) => /\.transaction\(/.test(readFileSync(join(ROOT, f), "utf8")));
    expect(opening).toEqual([]);
  });

  it("the write verbs, each in services/", () => {
    const verbs = sources("services").filter((f) =>
      /\.transaction\(/.test(readFileSync(join(ROOT, f), "utf8")),
    );
    expect(verbs.length).toBeGreaterThanOrEqual(4);
  });
});
