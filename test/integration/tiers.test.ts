/**
 * The integration tier holds (issue 28 §1): real databases and real HTTP in this process, never a
 * child process; in the quick tier (CIBLES_TEST_TIER=quick) PGlite alone, no PostgreSQL server.
 */
import { execFile, spawn } from "node:child_process";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { backends, freshDb } from "../support/helpers.ts";

const quick = process.env.CIBLES_TEST_TIER === "quick";

describe("the integration tier", () => {
  it("stops a child process with a message saying where the test belongs", () => {
    expect(() => spawn("true")).toThrow(/niveau integration : un processus enfant .* test\/system\//);
    expect(() => execFile("true")).toThrow(/niveau integration/);
  });

  it("opens real embedded databases from the migrated template", async () => {
    const db = await freshDb("pglite");
    try {
      const [row] = await db.query<{ n: number }>("select count(*)::int as n from schema_migration");
      expect(row?.n).toBeGreaterThan(10);
    } finally {
      await db.close();
    }
  });

  it(
    quick
      ? "runs on PGlite alone when quick, refusing any PostgreSQL server"
      : "runs on both backends in the full suite",
    async () => {
      if (quick) {
        expect(backends()).toEqual(["pglite"]);
        expect(inject("pgUrl")).toBe("");
        await expect(
          new pg.Client({ connectionString: "postgres://127.0.0.1:1/x" }).connect(),
        ).rejects.toThrow(/niveau integration : un serveur PostgreSQL/);
      } else {
        expect(backends()).toEqual(["pglite", "pg"]);
      }
    },
  );
});
