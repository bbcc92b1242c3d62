/**
 * Brings a database to the current schema, in one transaction:
 * - `sql/migrations/NNNN_*.sql` in order, once each, recorded in `schema_migration`; a landed
 *   migration is frozen (test/migrations.test.ts holds each one's sha256);
 * - then `sql/functions/*.sql`, the PL/pgSQL functions that carry rules (ADR 0010), each applied
 *   with `create or replace` whenever its sha256 differs from the one recorded in
 *   `schema_function`.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db } from "./index.ts";

const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "sql");
const MIGRATIONS_DIR = join(SQL_DIR, "migrations");
const FUNCTIONS_DIR = join(SQL_DIR, "functions");
const MIGRATION_LOCK = 727_001;

export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort();
}

export function functionFiles(): string[] {
  return readdirSync(FUNCTIONS_DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort();
}

/** A migration's or function file's text and sha256 (hex). */
export function sqlFile(kind: "migrations" | "functions", file: string): { text: string; sha256: string } {
  const text = readFileSync(join(kind === "migrations" ? MIGRATIONS_DIR : FUNCTIONS_DIR, file), "utf8");
  return { text, sha256: createHash("sha256").update(text).digest("hex") };
}

/** What a run applied: migrations, then function files. */
export interface Applied {
  migrations: string[];
  functions: string[];
}

export async function migrate(db: Db): Promise<Applied> {
  const applied: Applied = { migrations: [], functions: [] };
  await db.transaction(async (tx) => {
    if (db.backend === "pg") await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await tx.query(
      "create table if not exists schema_migration (version text primary key, applied_at timestamptz not null default now())",
    );
    const done = new Set(
      (await tx.query<{ version: string }>("select version from schema_migration")).map((r) => r.version),
    );
    for (const file of migrationFiles()) {
      if (done.has(file)) continue;
      await tx.exec(sqlFile("migrations", file).text);
      await tx.query("insert into schema_migration (version) values ($1)", [file]);
      applied.migrations.push(file);
    }
    await tx.query(
      `create table if not exists schema_function (file text primary key, sha256 text not null,
         applied_at timestamptz not null default now())`,
    );
    const recorded = new Map(
      (await tx.query<{ file: string; sha256: string }>("select file, sha256 from schema_function")).map(
        (r) => [r.file, r.sha256],
      ),
    );
    for (const file of functionFiles()) {
      const { text, sha256 } = sqlFile("functions", file);
      if (recorded.get(file) === sha256) continue;
      await tx.exec(text);
      await tx.query(
        `insert into schema_function (file, sha256) values ($1, $2)
         on conflict (file) do update set sha256 = excluded.sha256, applied_at = now()`,
        [file, sha256],
      );
      applied.functions.push(file);
    }
  });
  return applied;
}
