/** Applies sql/migrations/NNNN_*.sql in order, once each, recorded in schema_migration. */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Db } from "./index.ts";

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "sql", "migrations");
const MIGRATION_LOCK = 727_001;

export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort();
}

export async function migrate(db: Db): Promise<string[]> {
  const applied: string[] = [];
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
      const text = readFileSync(join(MIGRATIONS_DIR, file), "utf8");
      await tx.exec(text);
      await tx.query("insert into schema_migration (version) values ($1)", [file]);
      applied.push(file);
    }
  });
  return applied;
}
