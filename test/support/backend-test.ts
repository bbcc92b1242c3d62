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
import { backends, freshDb, freshDbWithReferential, resetFacts, type SeedFn, seededDb } from "./helpers.ts";

/** What a suite's database starts with: nothing, the mini referential, or what a function loads (`sharedSeed`: made once per run on PGlite). */
export type Seed = "empty" | "referential" | SeedFn;

/** One suite's database, as `describeOnBackends` declares it (compared by identity). */
export interface DatabaseSpec {
  readonly backend: Backend;
  readonly seed: Seed;
}

async function openSeeded(spec: DatabaseSpec): Promise<Db> {
  if (spec.seed === "referential") return freshDbWithReferential(spec.backend);
  if (spec.seed === "empty") return freshDb(spec.backend);
  return seededDb(spec.backend, spec.seed);
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
 * (the referential kept) before every test; `only` declares it on that backend alone (behaviour
 * PGlite does not have, such as sessions that run side by side: none in the quick tier).
 */
export function describeOnBackends(
  title: string,
  options: { seed?: Seed; reset?: boolean; only?: Backend },
  body: (backend: Backend) => void,
): void {
  for (const backend of backends().filter((b) => options.only === undefined || b === options.only)) {
    describe(`${title} on ${backend}`, () => {
      test.override("database", { backend, seed: options.seed ?? "empty" });
      if (options.reset) test.beforeEach(async ({ db }) => resetFacts(db));
      body(backend);
    });
  }
}
