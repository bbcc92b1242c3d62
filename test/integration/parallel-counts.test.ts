/**
 * One date's counts over a large scope, split between PostgreSQL sessions that share one snapshot
 * (ADR 0017): the split counts exactly what one statement counts, at every date and for every
 * scope it takes; the sessions see one database state even when a write commits between their
 * reads; and the split never runs where it must not (PGlite, a caller's transaction, a second
 * split at the same time). The split is PostgreSQL's (one server, several sessions): its suite runs
 * where the run has a server (`npm test`); on PGlite, one session counts whatever is asked.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, vi } from "vitest";
import { type Db, savepointDb } from "../../db/index.ts";
import { addMonths, monthStarts } from "../../domain/dates.ts";
import { ingestPaths } from "../../ingest/ingest.ts";
import { importAdjustments, importReferential } from "../../ingest/programme.ts";
import { balancedChunks, essmsCounts, PARALLEL_MIN_GRAPPES } from "../../sql/queries.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { goldenRoot, SECRET, writeTemp } from "../support/helpers.ts";

const medium = join(goldenRoot(), "medium");

/** The medium golden case with each of its 16 ESSMS in a grappe of its own. */
function oneGrappePerEssms(): string {
  const [header, ...lines] = readFileSync(join(medium, "referentiel.csv"), "utf8").trim().split("\n");
  const rows = lines.map((line, i) => {
    const cells = line.split(";");
    cells[0] = `P${String(i + 1).padStart(2, "0")}`;
    cells[1] = `Grappe ${cells[0]}`;
    return cells.join(";");
  });
  return writeTemp("referentiel.csv", `${[header, ...rows].join("\n")}\n`);
}

it("splits grappes into lists of about as many ESSMS, each grappe once", () => {
  const sizes = [
    ["A", 10],
    ["B", 1],
    ["C", 7],
    ["D", 3],
    ["E", 3],
    ["F", 2],
  ] as const;
  const chunks = balancedChunks(sizes, 2);
  expect(chunks).toHaveLength(2);
  expect(chunks.flat().sort()).toEqual(["A", "B", "C", "D", "E", "F"]);
  const load = (ids: string[]) => ids.reduce((s, id) => s + (sizes.find((x) => x[0] === id)?.[1] ?? 0), 0);
  expect(chunks.map(load).sort((a, b) => a - b)).toEqual([13, 13]);
  expect(balancedChunks(sizes, 2)).toEqual(chunks);
  expect(balancedChunks(sizes.slice(0, 1), 4)).toEqual([["A"]]);
  expect(balancedChunks([], 3)).toEqual([]);
});

describeOnBackends("counts on PGlite", { seed: "referential", only: "pglite" }, () => {
  it("counts in its one session whatever the parallelism asked: no split, the same rows", async ({ db }) => {
    expect(db.sharedSnapshot).toBeUndefined();
    const one = await essmsCounts(db, "2025-07-01", null, { parallelism: 1 });
    expect(one.map((c) => c.finess).sort()).toEqual(["2A0000017", "310000039", "340000017"]);
    for (const n of [2, 4])
      expect(await essmsCounts(db, "2025-07-01", null, { parallelism: n })).toEqual(one);
  });
});

describeOnBackends(
  "counts split between sessions",
  {
    only: "pg",
    seed: async (db) => {
      expect((await importReferential(db, oneGrappePerEssms())).status).toBe("loaded");
      expect((await importAdjustments(db, join(medium, "amenagements.csv"))).status).toBe("loaded");
      const files = await ingestPaths(db, [join(medium, "exports")], { secret: SECRET });
      expect(files.every((f) => f.status === "loaded")).toBe(true);
    },
  },
  () => {
    const dates = monthStarts("2024-12-01", "2025-11-01");

    it("counts at every date, for all and for a list of grappes, what one statement counts", async ({
      db,
    }) => {
      const grappes = (await db.query<{ g: string }>("select grappe_id as g from grappe order by 1")).map(
        (r) => r.g,
      );
      expect(grappes.length).toBeGreaterThanOrEqual(2 * PARALLEL_MIN_GRAPPES);
      const some = grappes.slice(0, PARALLEL_MIN_GRAPPES + 1);
      const split = vi.spyOn(db as Required<Db>, "sharedSnapshot");
      let nonZero = 0;
      for (const d of dates) {
        for (const scope of [null, some]) {
          const one = await essmsCounts(db, d, scope, { parallelism: 1 });
          nonZero += one.filter((c) => c.da > 0 && c.mss > 0).length;
          for (const n of [2, 3, 4])
            expect(await essmsCounts(db, d, scope, { parallelism: n }), `${d} ${n}`).toEqual(one);
        }
      }
      expect(nonZero).toBeGreaterThan(0);
      // every split ran (none found another one running), and returned its rows
      expect(split.mock.calls.length).toBe(dates.length * 2 * 3);
      for (const r of split.mock.results) expect(await r.value).toBeDefined();
      split.mockRestore();
    });

    it("leaves small scopes and a caller's transaction to one session", async ({ db }) => {
      const split = vi.spyOn(db as Required<Db>, "sharedSnapshot");
      const d = addMonths(dates[0] as string, 6);
      const ids = (await db.query<{ g: string }>("select grappe_id as g from grappe order by 1 limit 3")).map(
        (r) => r.g,
      );
      const small = await essmsCounts(db, d, ids, { parallelism: 2 });
      expect(small.map((c) => c.grappe_id).sort()).toEqual(ids);
      const inside = await db.transaction((tx) =>
        essmsCounts(savepointDb(db, tx), d, null, { parallelism: 2 }),
      );
      expect(inside).toEqual(await essmsCounts(db, d, null, { parallelism: 1 }));
      // a Db marked as running inside a caller's transaction never splits, even if it could
      const marked = { ...db, inTransaction: true as const };
      const markedSplit = vi.spyOn(marked, "sharedSnapshot");
      expect(await essmsCounts(marked, d, null, { parallelism: 2 })).toEqual(inside);
      expect(markedSplit).not.toHaveBeenCalled();
      expect(split).not.toHaveBeenCalled();
      split.mockRestore();
    });

    it("counts each list of grappes in its own session of the shared snapshot", async ({ db }) => {
      const share = db.sharedSnapshot?.bind(db);
      if (!share) throw new Error("sharedSnapshot absent sur PostgreSQL");
      const sessions = new Set<number>();
      const spy = vi.spyOn(db, "sharedSnapshot").mockImplementation((n, fn) =>
        share(n, (readers) =>
          fn(
            readers.map((r, i) => ({
              ...r,
              query: (text: string, params?: readonly unknown[]) => {
                if (text.includes("population")) sessions.add(i);
                return r.query(text, params);
              },
            })) as typeof readers,
          ),
        ),
      );
      const d = addMonths(dates[0] as string, 7);
      for (const n of [2, 3]) {
        sessions.clear();
        await essmsCounts(db, d, null, { parallelism: n });
        expect([...sessions].sort()).toEqual(Array.from({ length: n }, (_, i) => i));
      }
      spy.mockRestore();
    });
    it("gives its sessions one snapshot, even when a write commits between their reads", async ({ db }) => {
      const count = "select count(*)::int as n from grappe";
      const before = (await db.query<{ n: number }>(count))[0]?.n;
      const seen = await db.sharedSnapshot?.(3, async ([a, b, c]) => {
        const first = (await a?.query<{ n: number }>(count))?.[0]?.n;
        await db.query(
          "insert into grappe (grappe_id, grappe_nom, region) values ('SNAP', 'Instantané', 'OCC')",
        );
        const now = (await db.query<{ n: number }>(count))[0]?.n;
        return [
          first,
          (await b?.query<{ n: number }>(count))?.[0]?.n,
          (await c?.query<{ n: number }>(count))?.[0]?.n,
          now,
        ];
      });
      await db.query("delete from grappe where grappe_id = 'SNAP'");
      expect(seen).toEqual([before, before, before, (before ?? 0) + 1]);
    });

    it("runs one split at a time, with 2 to 4 sessions, and ends its transactions", async ({ db }) => {
      const share = db.sharedSnapshot?.bind(db);
      if (!share) throw new Error("sharedSnapshot absent sur PostgreSQL");
      for (const n of [0, 1, 5, 2.5]) expect(await share(n, async () => "lancé")).toBeUndefined();
      let release = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      const first = share(2, async () => {
        await held;
        return "premier";
      });
      // the first group holds its sessions until released: a second one does not wait
      expect(await share(2, async () => "second")).toBeUndefined();
      release();
      expect(await first).toBe("premier");
      expect(await share(4, async (readers) => readers.length)).toBe(4);
      // a failing fn ends its transactions too: the next group starts
      await expect(share(2, async () => Promise.reject(new Error("échec voulu")))).rejects.toThrow(
        "échec voulu",
      );
      const open = await db.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'",
      );
      expect(open[0]?.n).toBe(0);
      expect(await share(2, async () => "ensuite")).toBe("ensuite");
    });

    it("survives a session the server ends, idle or busy, and releases it", async ({ db }) => {
      const share = db.sharedSnapshot?.bind(db);
      if (!share) throw new Error("sharedSnapshot absent sur PostgreSQL");
      // idle: ended from outside while it waits in its transaction
      expect(
        await share(2, async ([, b]) => {
          const pid = (await b?.query<{ pid: number }>("select pg_backend_pid() as pid"))?.[0]?.pid;
          await db.query("select pg_terminate_backend($1)", [pid]);
          await new Promise((r) => setTimeout(r, 200));
          return "terminé";
        }),
      ).toBe("terminé");
      // busy: its own query fails
      await expect(
        share(2, async ([, b]) => b?.query("select pg_terminate_backend(pg_backend_pid())")),
      ).rejects.toThrow();
      expect(await share(3, async (readers) => readers.length)).toBe(3);
      expect((await essmsCounts(db, addMonths(dates[0] as string, 5), null, { parallelism: 2 })).length).toBe(
        16,
      );
    });
  },
);
