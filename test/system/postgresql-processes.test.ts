/**
 * The figures cache (ADR 0015, 0018) on a real PostgreSQL server with more than one session: two
 * server processes on one database never serve a stale figure, and an ESSMS moved between grappes
 * while its exports are imported leaves no grappe stale (issue 18).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Db, openDb } from "../../db/index.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importReferential } from "../../ingest/programme.ts";
import { cachedReport } from "../../sql/figures-cache.ts";
import { computeReport } from "../../sql/queries.ts";
import { PASSWORD, populate, REFERENTIAL, USERS } from "../support/api-helpers.ts";
import { cliProcess, freePort, stopProcess, waitForHealth } from "../support/cli-run.ts";
import { createPgDatabase, exportHeader, SECRET, tempDir, writeTemp } from "../support/helpers.ts";

const D = "2025-07-01";

describe("two server processes on one PostgreSQL database", () => {
  const servers: ReturnType<typeof cliProcess>[] = [];
  const bases: string[] = [];
  let databaseUrl = "";
  beforeAll(async () => {
    databaseUrl = await createPgDatabase();
    const db = await openDb({ databaseUrl });
    await populate(db);
    await db.close();
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const child = cliProcess(["serve", "--no-demo"], {
        DATA_DIR: tempDir(),
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: "127.0.0.1",
        PSEUDONYMISATION_SECRET: SECRET,
        INGEST_CRON: "0 2 1 1 *",
      });
      let log = "";
      child.stderr?.on("data", (d) => {
        log += d;
      });
      servers.push(child);
      bases.push(`http://127.0.0.1:${port}`);
      await waitForHealth(bases[i] as string, () => log);
    }
  }, 120_000);
  afterAll(async () => {
    for (const s of servers) await stopProcess(s);
  });

  it("an import through one process is seen by the next request to the other", async () => {
    const cookies = await Promise.all(
      bases.map(async (base) => {
        const r = await fetch(`${base}/api/session`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: base },
          body: JSON.stringify({ email: USERS.chef_projet?.email, password: PASSWORD }),
        });
        expect(r.status).toBe(200);
        return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
      }),
    );
    const a = bases[0] as string;
    const get = async (i: 0 | 1, path: string) => {
      const r = await fetch(`${bases[i]}${path}`, { headers: { cookie: cookies[i] as string } });
      expect(r.status).toBe(200);
      return r.json();
    };
    const page = `/api/grappes/T1?date=${D}`;
    const essms = `/api/essms/340000017/page?date=${D}`;
    // Both processes warm their caches.
    const before = await get(1, page);
    expect(await get(0, page)).toEqual(before);
    const essmsBefore = await get(1, essms);
    // A new dossier imported through process A…
    const form = new FormData();
    form.set(
      "file",
      new File(
        [`${exportHeader("dossiers")}\n340000017;deux-processus;2025-06-01;;;2025-06-15;\n`],
        "dossiers_juin.csv",
      ),
    );
    const up = await fetch(`${a}/api/imports`, {
      method: "POST",
      headers: { cookie: cookies[0] as string, origin: a },
      body: form,
    });
    expect(up.status).toBe(202);
    const { import_id } = (await up.json()) as { import_id: number };
    for (let tries = 0; ; tries++) {
      const st = (await get(0, `/api/imports/${import_id}`)) as { status: string };
      if (st.status !== "running") {
        expect(st.status).toBe("loaded");
        break;
      }
      expect(tries).toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    // …is in process B's very next answers.
    const after = (await get(1, page)) as { essms: { finess: string; file_active: { value: number } }[] };
    expect(after).not.toEqual(before);
    expect(after).toEqual(await get(0, page));
    const fa = (x: unknown) =>
      (x as { essms: { finess: string; file_active: { value: number } }[] }).essms.find(
        (e) => e.finess === "340000017",
      )?.file_active.value;
    expect(fa(after)).toBe((fa(before) as number) + 1);
    const essmsAfter = await get(1, essms);
    expect(essmsAfter).not.toEqual(essmsBefore);
    expect(essmsAfter).toEqual(await get(0, essms));
  });
});

describe("an ESSMS moved to another grappe while its exports are imported", () => {
  const X = "340000017";
  /** The referential with X moved from grappe T1 to grappe F1. */
  const MOVED = REFERENTIAL.replace("T1;Grappe test;OCC;340000017;", "F1;Grappe bretonne;BRE;340000017;");
  const row = (id: string) => `${X};${id};2025-06-01;;;2025-06-15;`;
  let db: Db;
  beforeEach(async () => {
    db = await openDb({ databaseUrl: await createPgDatabase() });
    await populate(db);
  });
  afterEach(async () => db?.close());

  /** A promise and the function that resolves it (Promise.withResolvers is Node 22's). */
  function signal() {
    let fire = () => {};
    const fired = new Promise<void>((r) => {
      fire = r;
    });
    return { fired, fire };
  }
  /** The import of one dossier of X (`hook`: its `onChunkMerged`, in its open transaction). */
  function importOne(id: string, hook?: () => Promise<void>) {
    const name = `dossiers_${id}.csv`;
    const path = writeTemp(name, `${exportHeader("dossiers")}\n${row(id)}\n`);
    return ingestFile(db, { path }, name, {
      secret: SECRET,
      importDay: "2025-08-01",
      ...(hook ? { onChunkMerged: hook } : {}),
    });
  }
  /** The import of one dossier of X, paused once its chunk is merged (its transaction open). */
  function pausedImport(id: string) {
    const merged = signal();
    const gate = signal();
    const done = importOne(id, async () => {
      merged.fire();
      await gate.fired;
    });
    return { merged: merged.fired, release: gate.fire, done };
  }
  const settled = (p: Promise<unknown>) =>
    Promise.race([p.then(() => "fini"), new Promise((r) => setTimeout(() => r("en attente"), 700))]);

  it("a move waits for an import in progress; the new grappe's figures then hold its rows", async () => {
    await cachedReport(db, D, "F1");
    const imp = pausedImport("pendant-1");
    await imp.merged;
    // The import holds X's lock: the referential that moves X waits for it.
    const move = importReferential(db, writeTemp("referentiel.csv", MOVED));
    expect(await settled(move)).toBe("en attente");
    // Meanwhile the new grappe's figures are asked (and kept): X is not in F1 yet.
    expect((await cachedReport(db, D, "F1")).essms.some((e) => e.finess === X)).toBe(false);
    imp.release();
    expect((await imp.done).status).toBe("loaded");
    expect((await move).status).toBe("loaded");
    const after = await cachedReport(db, D, "F1");
    expect(after).toEqual(await computeReport(db, D, "F1"));
    expect(after.essms.some((e) => e.finess === X)).toBe(true);
  });

  it("an import that reaches a moved ESSMS waits for the move and marks its new grappe", async () => {
    // The move, as the referential makes it: X's lock, then its row, in a transaction still open.
    const open = signal();
    const moved = signal();
    const move = db.transaction(async (tx) => {
      await tx.query("select lock_finess($1::text[])", [[X]]);
      await tx.query("update essms set grappe_id = 'F1' where finess = $1", [X]);
      moved.fire();
      await open.fired;
    });
    await moved.fired;
    const imp = importOne("apres-1");
    expect(await settled(imp)).toBe("en attente");
    // The new grappe's figures asked before the move commits: X is not in F1 yet.
    expect((await cachedReport(db, D, "F1")).essms.some((e) => e.finess === X)).toBe(false);
    open.fire();
    await move;
    expect((await imp).status).toBe("loaded");
    const after = await cachedReport(db, D, "F1");
    expect(after).toEqual(await computeReport(db, D, "F1"));
    expect(after.essms.find((e) => e.finess === X)).toBeDefined();
  });
});
