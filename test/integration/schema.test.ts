/**
 * The one `Database` interface (db/schema.ts) is the source of truth for column types: this test
 * holds it equal to what the migrations create, on both backends — every table and column, and
 * whether a column may be null — reading the interface with the TypeScript parser.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { expect } from "vitest";
import type { Db } from "../../db/index.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { ROOT } from "../support/helpers.ts";

type Columns = Record<string, Record<string, "null" | "not null">>;

/**
 * Tables and columns of `interface Database`, nullable when the declared type admits null: read
 * from the syntax tree (each table is a type literal; a table declared otherwise fails here), which
 * needs no type checker (a program with its libraries took 3–4 s to build).
 */
function declared(): Columns {
  const file = join(ROOT, "db", "schema.ts");
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: Columns = {};
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== "Database") return;
    for (const table of node.members) {
      if (!ts.isPropertySignature(table) || !table.type) continue;
      const name = (table.name as ts.Identifier).text;
      if (!ts.isTypeLiteralNode(table.type))
        throw new Error(`db/schema.ts : la table ${name} n'est pas déclarée par un type littéral`);
      const columns: Record<string, "null" | "not null"> = {};
      for (const column of table.type.members) {
        if (!ts.isPropertySignature(column) || !column.type) continue;
        columns[(column.name as ts.Identifier).text] = /\bnull\b/.test(column.type.getText())
          ? "null"
          : "not null";
      }
      out[name] = columns;
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
