/**
 * The one `Database` interface (db/schema.ts) is the source of truth for column types: this test
 * holds it equal to what the migrations create, on both backends — every table and column, and
 * whether a column may be null — reading the interface with the TypeScript compiler.
 */
import { join } from "node:path";
import ts from "typescript";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { ROOT } from "../support/helpers.ts";

type Columns = Record<string, Record<string, "null" | "not null">>;

/** Tables and columns of `interface Database`, nullable when the declared type admits null. */
function declared(): Columns {
  const file = join(ROOT, "db", "schema.ts");
  const program = ts.createProgram([file], { strict: true, skipLibCheck: true, noEmit: true });
  const source = program.getSourceFile(file);
  const checker = program.getTypeChecker();
  const out: Columns = {};
  source?.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== "Database") return;
    for (const table of node.members) {
      if (!ts.isPropertySignature(table) || !table.type) continue;
      const name = (table.name as ts.Identifier).text;
      out[name] = {};
      for (const column of checker.getTypeFromTypeNode(table.type).getProperties()) {
        const decl = column.valueDeclaration;
        const text = decl && ts.isPropertySignature(decl) && decl.type ? decl.type.getText() : "";
        (out[name] as Record<string, string>)[column.name] = /\bnull\b/.test(text) ? "null" : "not null";
      }
    }
  });
  return out;
}

async function migrated(db: Db): Promise<Columns> {
  const rows = await db.query<{ t: string; c: string; n: string }>(
    `select table_name as t, column_name as c, is_nullable as n from information_schema.columns
     where table_schema = 'public' order by 1, 2`,
  );
  const out: Columns = {};
  for (const r of rows) {
    const table = out[r.t] ?? {};
    table[r.c] = r.n === "YES" ? "null" : "not null";
    out[r.t] = table;
  }
  return out;
}

describeOnBackends("db/schema.ts", {}, () => {
  it("declares exactly the tables and columns the migrations create, with their nullability", async ({
    db,
  }) => {
    expect(declared()).toEqual(await migrated(db));
  });
});
