/**
 * The one fixture that gives tests their databases (issue 13 §7): `describeOnBackends` declares a
 * suite once per backend this run has (PGlite always, the real PostgreSQL server whenever the
 * global setup started or was given one), and `it`/`test` hand each test the suite's `db`.
 *
 * One database per suite, opened (and seeded) by its first test, closed when the file ends; the
 * tests of a suite share it in order, as they did with the former `beforeAll` preamble.
 *
 *   describeOnBackends("ingest", { seed: "referential", reset: true }, (backend) => {
 *     it("loads", async ({ db }) => { … });
 *   });
 */
import { test as base, describe } from "vitest";
import type { Backend, Db } from "../../db/index.ts";
import { backends, freshDb, freshDbWithReferential, resetFacts } from "./helpers.ts";

/** What a suite's database starts with: nothing, the mini referential, or what a function loads. */
export type Seed = "empty" | "referential" | ((db: Db) => Promise<void>);

/** One suite's database, as `describeOnBackends` declares it (compared by identity). */
export interface DatabaseSpec {
  readonly backend: Backend;
  readonly seed: Seed;
}

async function openSeeded(spec: DatabaseSpec): Promise<Db> {
  if (spec.seed === "referential") return freshDbWithReferential(spec.backend);
  const db = await freshDb(spec.backend);
  if (typeof spec.seed === "function") {
    try {
      await spec.seed(db);
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  return db;
}

export const test = base
  .extend("database", { backend: "pglite", seed: "empty" } as DatabaseSpec)
  // biome-ignore lint/correctness/noEmptyPattern: Vitest reads a fixture's dependencies from this pattern.
  .extend("opened", { scope: "file" }, async ({}, { onCleanup }) => {
    const opened = new Map<DatabaseSpec, Promise<Db>>();
    onCleanup(async () => {
      for (const db of opened.values()) await (await db.catch(() => undefined))?.close();
    });
    return opened;
  })
  .extend("db", async ({ database, opened }) => {
    let db = opened.get(database);
    if (!db) {
      db = openSeeded(database);
      opened.set(database, db);
    }
    return db;
  });

export const it = test;

/**
 * Declares `body` once per backend, as the suite "`title` on `backend`".
 * `seed` fills the suite's database before its first test; `reset` empties its imports and facts
 * (the referential kept) before every test.
 */
export function describeOnBackends(
  title: string,
  options: { seed?: Seed; reset?: boolean },
  body: (backend: Backend) => void,
): void {
  for (const backend of backends()) {
    describe(`${title} on ${backend}`, () => {
      test.override("database", { backend, seed: options.seed ?? "empty" });
      if (options.reset) test.beforeEach(async ({ db }) => resetFacts(db));
      body(backend);
    });
  }
}
