/**
 * Issue 12 against the real server process (`serve`, 127.0.0.1 only, bounded loops), on both
 * backends: login attempts counted atomically under parallel attack, an oversized login body
 * refused without growing the server's memory, and a large upload streamed to disk and imported
 * in the background while /healthz, logins and pages keep answering, in bounded memory.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BUSY_WAIT_MS } from "../../api/app.ts";
import { openDb } from "../../db/index.ts";
import { importReferential } from "../../ingest/programme.ts";
import { addUser } from "../../services/accounts.ts";
import { PASSWORD, REFERENTIAL } from "../support/api-helpers.ts";
import { describeOnBackends } from "../support/backend-test.ts";
import { cliProcess, freePort, stopProcess, waitForHealth } from "../support/cli-run.ts";
import { createPgDatabase, SECRET, tempDir, writeTemp } from "../support/helpers.ts";

/** Resets a process's peak resident memory (proc(5): clear_refs, 5), so that a test measures its own. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** Peak resident memory of a process (VmHWM, MB). */
function peakMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** An agenda export of `rows` rows for one ESSMS of grappe T1. */
function agendaExport(rows: number): Buffer {
  const parts = ["finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj\n"];
  for (let i = 0; i < rows; i++)
    parts.push(`340000017;u${i % 4000};ev${i};2025-05-${String((i % 28) + 1).padStart(2, "0")};;VALIDE;;\n`);
  return Buffer.from(parts.join(""));
}

const ADMIN = "admin@attaque.invalid";
const CHEF = "chef@attaque.invalid";
const CHEF_F1 = "chef.bre@attaque.invalid";

describeOnBackends("server under attack", {}, (backend) => {
  let base = "";
  let child: ReturnType<typeof cliProcess>;
  let log = "";
  beforeAll(async () => {
    const dataDir = tempDir();
    const databaseUrl = backend === "pg" ? await createPgDatabase() : "";
    const db = await openDb(backend === "pg" ? { databaseUrl } : { dataDir });
    expect((await importReferential(db, writeTemp("referentiel.csv", REFERENTIAL))).status).toBe("loaded");
    await addUser(db, { email: ADMIN, role: "admin", region: null, grappes: [], password: PASSWORD });
    await addUser(db, {
      email: CHEF,
      role: "chef_projet",
      region: null,
      grappes: ["T1"],
      password: PASSWORD,
    });
    await addUser(db, {
      email: CHEF_F1,
      role: "chef_projet",
      region: null,
      grappes: ["F1"],
      password: PASSWORD,
    });
    await db.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = cliProcess(["serve", "--no-demo"], {
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      PSEUDONYMISATION_SECRET: SECRET,
      // The test is the proxy: each scenario names its own client address.
      TRUSTED_PROXIES: "127.0.0.1",
      INGEST_CRON: "0 2 1 1 *",
    });
    child.stderr?.on("data", (d) => {
      log += d;
    });
    await waitForHealth(base, () => log);
  });
  afterAll(() => stopProcess(child));

  const login = (email: string, password: string, client: string) =>
    fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base, "x-forwarded-for": client },
      body: JSON.stringify({ email, password }),
    });

  it("streams a large upload to disk, answers 202, imports it while /healthz, logins and pages answer", async () => {
    // Enough rows for the memory bound to mean something on PostgreSQL, and for the import to
    // outlast the busy wait on PGlite.
    const rows = backend === "pg" ? 600_000 : 400_000;
    // First test of the file: the server has only started (logins storms come later).
    resetPeak(child.pid as number);
    const atStart = peakMb(child.pid as number);
    const r = await login(CHEF, PASSWORD, "198.51.100.5");
    expect(r.status).toBe(200);
    const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const form = new FormData();
    form.set("file", new File([new Uint8Array(agendaExport(rows))], "agenda_volumineux.csv"));
    const accepted = await fetch(`${base}/api/imports`, {
      method: "POST",
      headers: { cookie, origin: base },
      body: form,
    });
    expect(accepted.status).toBe(202);
    const { import_id: id } = (await accepted.json()) as { import_id: number };
    let status = "running";
    let slowestHealth = 0;
    let slowestPage = 0;
    const pageStatuses = new Set<number>();
    const started = performance.now();
    const deadline = Date.now() + 180_000;
    while (status === "running" && Date.now() < deadline) {
      let t = performance.now();
      const health = await fetch(`${base}/healthz`);
      slowestHealth = Math.max(slowestHealth, performance.now() - t);
      expect(health.status).toBe(200);
      t = performance.now();
      const page = await fetch(`${base}/api/imports/${id}`, { headers: { cookie } });
      slowestPage = Math.max(slowestPage, performance.now() - t);
      pageStatuses.add(page.status);
      if (page.status === 200) status = ((await page.json()) as { status: string }).status;
      else {
        // The embedded database busy with the import: a French 503 that says when to retry.
        expect(page.status).toBe(503);
        expect(page.headers.get("retry-after")).toBe("5");
        expect(((await page.json()) as { detail: string }).detail).toMatch(/occupée par un import/);
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(status).toBe("loaded");
    const done = (await (await fetch(`${base}/api/imports/${id}`, { headers: { cookie } })).json()) as {
      rows_loaded: number;
    };
    expect(done.rows_loaded).toBe(rows);
    const importMs = performance.now() - started;
    // Bounds that hold on a loaded machine too: /healthz never waits for the database, and no
    // request waits for the whole import — at most the busy wait and one statement.
    expect(slowestHealth).toBeLessThan(BUSY_WAIT_MS);
    // Nobody waits for the whole import: at most the busy wait, then an answer.
    expect(slowestPage).toBeLessThan(BUSY_WAIT_MS + 3000);
    if (importMs > BUSY_WAIT_MS + 3000) expect(slowestPage).toBeLessThan(importMs);
    if (backend === "pg") {
      expect([...pageStatuses]).toEqual([200]);
      // The CLI's bounded memory (ADR 0008); PGlite's WebAssembly heap is its own (ADR 0009).
      expect(peakMb(child.pid as number)).toBeLessThan(300);
    }
    expect(log).not.toMatch(/"level":"error"/);
    process.stderr.write(
      `[${backend}] mémoire : ${Math.round(atStart)} Mo au départ, ${Math.round(peakMb(child.pid as number))} Mo au plus\n`,
    );
    process.stderr.write(
      `[${backend}] import de ${rows} lignes : /healthz ${Math.round(slowestHealth)} ms au plus, pages ${Math.round(slowestPage)} ms au plus (${[...pageStatuses].join(", ")})\n`,
    );
  });
  it("checks at most 5 passwords of 30 sent in parallel for one account", async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => login(ADMIN, "mauvais-mot-de-passe", "198.51.100.1")),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    // Locked now, even with the right password.
    expect((await login(ADMIN, PASSWORD, "198.51.100.9")).status).toBe(429);
  });

  it("checks at most 20 attempts of 40 sent in parallel from one address", async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(`inconnu${i}@attaque.invalid`, "x", "198.51.100.2")),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    // Another client behind the same trusted proxy is not concerned.
    expect((await login("autre@attaque.invalid", "x", "198.51.100.3")).status).toBe(401);
  });

  it("refuses a 300 MB login body after its first 64 KB, without growing the server's memory", async () => {
    const before = peakMb(child.pid as number);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 300 << 20) return controller.close();
        sent += 1 << 20;
        controller.enqueue(new Uint8Array(1 << 20).fill(0x61));
      },
    });
    const status = await fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base, "x-forwarded-for": "198.51.100.4" },
      body,
      duplex: "half",
    } as RequestInit).then(
      (r) => r.status,
      () => 413, // the server may close the connection while the client still writes
    );
    expect(status).toBe(413);
    expect(sent).toBeLessThan(300 << 20);
    expect(peakMb(child.pid as number) - before).toBeLessThan(40);
  });

  it("keeps each grappe's part of a shared file to itself, and lets the other grappe load its rows later", async () => {
    const session = async (email: string, client: string) => {
      const r = await login(email, PASSWORD, client);
      expect(r.status).toBe(200);
      return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
    };
    const t1 = await session(CHEF, "198.51.100.6");
    const f1 = await session(CHEF_F1, "198.51.100.7");
    const content = [
      "finess;message_id;date_envoi;sens;statut;usager_id;destinataire",
      ...Array.from({ length: 8 }, (_, i) => `340000017;partage-t${i};2025-05-02;ENVOYE;;u${i};pro`),
      ...Array.from({ length: 8 }, (_, i) => `350000014;partage-f${i};2025-05-02;ENVOYE;;b${i};pro`),
      "350000014;partage-fx;31/02/2025;ENVOYE;;b9;pro",
    ].join("\n");
    const upload = async (cookie: string) => {
      const form = new FormData();
      form.set("file", new File([content], "mss_partage.csv"));
      const res = await fetch(`${base}/api/imports`, {
        method: "POST",
        headers: { cookie, origin: base },
        body: form,
      });
      expect(res.status).toBe(202);
      const { import_id: id } = (await res.json()) as { import_id: number };
      for (let i = 0; i < 200; i++) {
        const d = (await (await fetch(`${base}/api/imports/${id}`, { headers: { cookie } })).json()) as {
          status: string;
        };
        if (d.status !== "running")
          return { id, ...d } as {
            id: number;
            status: string;
            rows_loaded: number;
            message: string | null;
          };
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("import sans fin");
    };
    const byT1 = await upload(t1);
    expect(byT1).toMatchObject({ status: "loaded", rows_loaded: 8 });
    // The other grappe's chef sees nothing of it: not listed, 404 like an unknown number.
    const listF1 = (await (await fetch(`${base}/api/imports`, { headers: { cookie: f1 } })).json()) as {
      import_id: number;
    }[];
    expect(listF1.map((i) => i.import_id)).not.toContain(byT1.id);
    expect((await fetch(`${base}/api/imports/${byT1.id}`, { headers: { cookie: f1 } })).status).toBe(404);
    // …and loads its own rows of the same file, told nothing of the first import.
    const byF1 = await upload(f1);
    expect(byF1).toMatchObject({ status: "loaded", rows_loaded: 8 });
    const detail = (await (
      await fetch(`${base}/api/imports/${byF1.id}`, { headers: { cookie: f1 } })
    ).json()) as {
      rejections: { line: number; message: string }[];
    };
    expect(detail.rejections.find((r) => r.line === 18)?.message).toMatch(/^date illisible/);
    expect(JSON.stringify(detail)).not.toMatch(/import n°/);
    expect(JSON.stringify(detail)).not.toContain("31/02/2025");
    // Sent again by the first chef: nothing left to load for its scope.
    const again = await upload(t1);
    expect(again.status).toBe("skipped");
  });
});
