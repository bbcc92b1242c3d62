/**
 * The third attack (issue 29), kinds held in this process over real HTTP on both backends: a
 * PostgreSQL session lost mid-import or under a lock (the process lives, the import ends failed
 * and loads when sent again), one user's burst of computations bounded (429) while /healthz and
 * another user's page answer, a DATA_DIR that cannot be written named at start, API tokens that expire, and the cookie's Secure
 * flag believed from PUBLIC_URL or a trusted proxy only.
 */
import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import pg from "pg";
import { afterAll, describe, expect, inject } from "vitest";
import { type AppDeps, createApp } from "../../api/app.ts";
import { type Db, openDb } from "../../db/index.ts";
import { isDomainError } from "../../domain/errors.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { createToken } from "../../services/accounts.ts";
import { UploadQueue } from "../../services/imports.ts";
import { PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { count, exportHeader, SECRET, writeTemp } from "../support/helpers.ts";

/** A server on 127.0.0.1 for `deps` (a free port); closed by the caller. */
async function listen(deps: AppDeps): Promise<{ base: string; close(): Promise<void> }> {
  const app = createApp({ log: () => {}, ...deps });
  const server: ServerType = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((r) => server.once("listening", () => r()));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function login(base: string, who: keyof typeof USERS, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base, ...headers },
    body: JSON.stringify({ email: USERS[who]?.email, password: PASSWORD }),
  });
  expect(r.status).toBe(200);
  return {
    cookie: (r.headers.get("set-cookie") ?? "").split(";")[0] as string,
    setCookie: r.headers.get("set-cookie") ?? "",
  };
}

/** An agenda export of `rows` rows for ESSMS 340000017, with distinct event ids per `tag`. */
function agenda(rows: number, tag: string): string {
  const lines = [exportHeader("agenda")];
  for (let i = 0; i < rows; i++)
    lines.push(
      `340000017;u${i % 50};${tag}${i};2025-05-${String((i % 28) + 1).padStart(2, "0")};;VALIDE;RDV;2025-05-02`,
    );
  return lines.join("\n");
}

/**
 * Terminates every other session of the database `db` works on (its own server, PostgreSQL only);
 * `idle` too: a client checked out and waiting (a lock's holder) is idle for the server.
 */
async function terminateBackends(db: Db, { idle = false } = {}): Promise<number> {
  const [{ name } = { name: "" }] = await db.query<{ name: string }>("select current_database() as name");
  const admin = new pg.Client({ connectionString: inject("pgUrl") });
  await admin.connect();
  try {
    const r = await admin.query(
      `select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()${idle ? "" : " and state <> 'idle'"}`,
      [name],
    );
    return r.rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

describeOnBackends("the third attack, in process", { seed: populate }, (backend) => {
  if (backend === "pg") {
    it("a session terminated mid-import: the process lives, the import ends failed, and loads when sent again", async ({
      db,
    }) => {
      const path = writeTemp("agenda_coupe.csv", agenda(600, "cut"));
      const queue = new UploadQueue(db, () => {});
      const [{ id } = { id: 0 }] = await db.query<{ id: number }>(
        "insert into import (file_name, kind, sha256, status, source, imported_by, scoped) values ('agenda_coupe.csv', 'agenda', '', 'running', 'api', 'chef@test.invalid', false) returning import_id::int as id",
      );
      let cut = false;
      const done = queue.enqueue({
        importId: id,
        upload: { name: "agenda_coupe.csv", path, bytes: 0, discard: () => {} },
        options: {
          secret: SECRET,
          source: "api",
          actor: "chef@test.invalid",
          chunkRows: 100,
          onChunkMerged: async () => {
            if (cut) return;
            cut = true;
            expect(await terminateBackends(db)).toBeGreaterThanOrEqual(1);
          },
        },
      });
      await done;
      // Still alive: the same Db answers, the import is recorded failed at once, nothing loaded.
      const [rec] = await db.query<{ status: string; message: string }>(
        "select status, message from import where import_id = $1",
        [id],
      );
      expect(rec?.status).toBe("failed");
      expect(rec?.message).toMatch(/rien n'a été chargé/);
      expect(await count(db, `agenda_event where import_id = ${id}`)).toBe(0);
      const again = await ingestFile(db, { path }, "agenda_coupe.csv", { secret: SECRET });
      expect(again.status).toBe("loaded");
      expect(await count(db, `agenda_event where import_id = ${again.import_id}`)).toBe(600);
    });

    it("a session terminated while it holds an advisory lock or a transaction: no crash, a French failure", async ({
      db,
    }) => {
      // The lock's holder is checked out and idle while the work runs: its session ends under it.
      // Unwatched, pg's 'error' on that client would kill the process (and fail this test run).
      let worked = false;
      const inLock = await db
        .withAdvisoryLock(727_999, async () => {
          expect(await terminateBackends(db, { idle: true })).toBeGreaterThanOrEqual(1);
          await new Promise((r) => setTimeout(r, 200));
          worked = true;
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(worked).toBe(true);
      if (inLock !== null) expect(isDomainError(inLock, "base_indisponible")).toBe(true);
      const inTx = db.transaction(async (tx) => {
        await tx.query("select 1");
        await terminateBackends(db);
        await tx.query("select pg_sleep(0.2)");
      });
      const e = await inTx.catch((x: unknown) => x);
      expect(isDomainError(e, "base_indisponible")).toBe(true);
      expect((e as Error).message).toMatch(/connexion à la base de données a été perdue/);
      expect((await db.query<{ one: number }>("select 1 as one"))[0]?.one).toBe(1);
    });
  }

  describe("one user's burst of computations", () => {
    let server: Awaited<ReturnType<typeof listen>>;
    afterAll(async () => server?.close());

    it("is bounded to 2 at a time (429 with Retry-After), while /healthz and another user's page answer within 2 s", async ({
      db,
    }) => {
      server = await listen({ db, secret: SECRET });
      const chef = await login(server.base, "chef_projet");
      const ars = await login(server.base, "ars");
      // 32 distinct dates, 8 at a time: each computes its figures (no answer kept ready).
      const days = Array.from({ length: 32 }, (_, i) => {
        const d = new Date(Date.UTC(2023, 0, 1) + i * 86_400_000 * 9);
        return d.toISOString().slice(0, 10);
      });
      const statuses: number[] = [];
      let stop = false;
      const burst = (async () => {
        for (let i = 0; i < days.length && !stop; i += 8) {
          const rs = await Promise.all(
            days
              .slice(i, i + 4)
              .map((d) =>
                fetch(`${server.base}/api/grappes/T1?date=${d}`, { headers: { cookie: chef.cookie } }),
              ),
          );
          for (const r of rs) {
            statuses.push(r.status);
            if (r.status === 429) expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
            await r.arrayBuffer();
          }
        }
      })();
      const latencies: number[] = [];
      for (let i = 0; i < 6; i++) {
        let t = performance.now();
        expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
        latencies.push(performance.now() - t);
        t = performance.now();
        const page = await fetch(`${server.base}/api/grappes/T1?date=2025-0${(i % 6) + 1}-15`, {
          headers: { cookie: ars.cookie },
        });
        expect([200, 429]).toContain(page.status);
        latencies.push(performance.now() - t);
      }
      stop = true;
      await burst;
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      expect(Math.max(...latencies)).toBeLessThan(2000);
    });
  });

  it("refuses an API token past its end, and a lifetime beyond the maximum, in French", async ({ db }) => {
    const t = await createToken(db, USERS.chef_projet?.email as string, "script", { days: 30, maxDays: 365 });
    expect(Date.parse(t.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const app = createApp({ db, secret: SECRET, log: () => {} });
    const me = () => app.request("/api/me", { headers: { authorization: `Bearer ${t.token}` } });
    expect((await me()).status).toBe(200);
    await db.query("update api_token set expires_at = now() - interval '1 second' where token_id = $1", [
      t.token_id,
    ]);
    expect((await me()).status).toBe(401);
    await expect(
      createToken(db, USERS.chef_projet?.email as string, "trop long", { days: 400, maxDays: 365 }),
    ).rejects.toThrow(/de 1 à 365/);
  });

  it("believes X-Forwarded-Proto only from a trusted proxy: the cookie's Secure flag and the origin of writes", async ({
    db,
  }) => {
    const open = await listen({ db, secret: SECRET });
    const proxied = await listen({
      db,
      secret: SECRET,
      trustedProxies: (await import("../../config/index.ts")).parseTrustedProxies("127.0.0.1"),
    });
    try {
      // From an untrusted peer, the header is any client's word: no Secure, and an https Origin is foreign.
      const claimed = await login(open.base, "amoa", { "x-forwarded-proto": "https" });
      expect(claimed.setCookie).not.toMatch(/Secure/);
      const https = open.base.replace("http:", "https:");
      const foreign = await fetch(`${open.base}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: https, "x-forwarded-proto": "https" },
        body: JSON.stringify({ email: USERS.amoa?.email, password: PASSWORD }),
      });
      expect(foreign.status).toBe(403);
      // Behind the trusted proxy (the test is it), the user did reach us over HTTPS.
      const secure = await login(proxied.base, "amoa", { "x-forwarded-proto": "https" });
      expect(secure.setCookie).toMatch(/Secure/);
      const viaProxy = await fetch(`${proxied.base}/api/session`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: proxied.base.replace("http:", "https:"),
          "x-forwarded-proto": "https",
        },
        body: JSON.stringify({ email: USERS.amoa?.email, password: PASSWORD }),
      });
      expect(viaProxy.status).toBe(200);
    } finally {
      await open.close();
      await proxied.close();
    }
  });
});

describe("the machine's failures, told as such", () => {
  it("names a DATA_DIR that cannot be written when the embedded database opens, in French", async () => {
    const e = await openDb({ dataDir: "/proc/cibles-donnees" }).catch((x: unknown) => x);
    expect(isDomainError(e, "validation")).toBe(true);
    expect((e as Error).message).toMatch(
      /^le dossier de données DATA_DIR \(\/proc\/cibles-donnees\) .* ne peut pas y être ouverte$/,
    );
  });
});
