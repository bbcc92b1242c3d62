/**
 * The third attack (issue 29) against real processes and a PostgreSQL server of the test's own:
 * the database restarted in the middle of an import (the process lives, the import ends failed and
 * loads when sent again), the database unreachable (503 `base_indisponible`), a server killed
 * (-9) or stopped (SIGTERM) during an upload (nothing left in the temporary folder after the next
 * start, every import's audit entry written, the stop bounded), a full disk (507
 * `espace_disque_insuffisant`) and a read-only DATA_DIR (named at start). Disks are small tmpfs
 * mounts made by the test (the tests run as root, as CI does).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, openDb } from "../../db/index.ts";
import { ingestFile } from "../../ingest/pipeline.ts";
import { importReferential } from "../../ingest/programme.ts";
import { addUser } from "../../services/accounts.ts";
import { UploadQueue } from "../../services/imports.ts";
import { PASSWORD, REFERENTIAL } from "../support/api-helpers.ts";
import { cliProcess, freePort, runCli, stopProcess, waitForHealth } from "../support/cli-run.ts";
import { count, exportHeader, SECRET, tempDir, writeTemp } from "../support/helpers.ts";
import { startPgServer } from "../support/pg-server.ts";

const CHEF = "chef@processus.invalid";

/** An agenda export of `rows` rows for ESSMS 340000017 (grappe T1). */
function agenda(rows: number, tag: string): Buffer {
  const lines = [exportHeader("agenda")];
  for (let i = 0; i < rows; i++)
    lines.push(
      `340000017;u${i % 500};${tag}${i};2025-05-${String((i % 28) + 1).padStart(2, "0")};;VALIDE;RDV;2025-05-02`,
    );
  return Buffer.from(`${lines.join("\n")}\n`);
}

/** A tmpfs of `size` mounted at a new folder (read-only when asked); unmounted by the caller. */
function mountTmpfs(size: string, readOnly = false): string {
  const at = tempDir("cibles-montage-");
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}${readOnly ? ",ro" : ""}`, "tmpfs", at]);
  return at;
}

function unmount(at: string): void {
  execFileSync("umount", ["-l", at]);
  rmSync(at, { recursive: true, force: true });
}

/** The temporary folders of the product's processes under `tmp` (ingest/temp.ts). */
function processFolders(tmp: string): string[] {
  return existsSync(tmp) ? readdirSync(tmp).filter((n) => /^cibles-\d+-\d+$/.test(n)) : [];
}

describe("PostgreSQL restarted mid-import", () => {
  let server: Awaited<ReturnType<typeof startPgServer>>;
  let db: Db;
  beforeAll(async () => {
    server = await startPgServer();
    if (!("url" in server)) throw new Error(server.error);
    db = await openDb({ databaseUrl: server.url });
    expect((await importReferential(db, writeTemp("referentiel.csv", REFERENTIAL))).status).toBe("loaded");
  });
  afterAll(async () => {
    await db?.close().catch(() => {});
    if (server && "url" in server) server.stop();
  });

  it("lives through it: the import ends failed at once, and loads when sent again", async () => {
    if (!("url" in server)) throw new Error(server.error);
    const path = writeTemp("agenda_redemarrage.csv", agenda(3000, "r"));
    const [{ id } = { id: 0 }] = await db.query<{ id: number }>(
      "insert into import (file_name, kind, sha256, status, source, imported_by, scoped) values ('agenda_redemarrage.csv', 'agenda', '', 'running', 'api', $1, false) returning import_id::int as id",
      [CHEF],
    );
    const queue = new UploadQueue(db, () => {});
    let restarted = false;
    const restart = server.restart;
    await queue.enqueue({
      importId: id,
      upload: { name: "agenda_redemarrage.csv", path, bytes: 0, discard: () => {} },
      options: {
        secret: SECRET,
        source: "api",
        actor: CHEF,
        chunkRows: 500,
        onChunkMerged: async () => {
          if (restarted) return;
          restarted = true;
          restart();
        },
      },
    });
    expect(restarted).toBe(true);
    const [rec] = await db.query<{ status: string; message: string }>(
      "select status, message from import where import_id = $1",
      [id],
    );
    expect(rec).toMatchObject({ status: "failed", message: expect.stringMatching(/rien n'a été chargé/) });
    expect(await count(db, `agenda_event where import_id = ${id}`)).toBe(0);
    const again = await ingestFile(db, { path }, "agenda_redemarrage.csv", { secret: SECRET });
    expect(again.status).toBe("loaded");
    expect(await count(db, `agenda_event where import_id = ${again.import_id}`)).toBe(3000);
  });

  it("answers 503 base_indisponible with Retry-After, in French, while the database is down, and recovers", async () => {
    if (!("url" in server)) throw new Error(server.error);
    const dataDir = tempDir();
    await addUser(db, {
      email: CHEF,
      role: "chef_projet",
      region: null,
      grappes: ["T1"],
      password: PASSWORD,
    });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = cliProcess(["serve", "--no-demo"], {
      DATA_DIR: dataDir,
      DATABASE_URL: server.url,
      PORT: String(port),
      HOST: "127.0.0.1",
      PSEUDONYMISATION_SECRET: SECRET,
      INGEST_CRON: "0 2 1 1 *",
    });
    let log = "";
    child.stderr?.on("data", (d) => {
      log += d;
    });
    try {
      await waitForHealth(base, () => log);
      const r0 = await fetch(`${base}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ email: CHEF, password: PASSWORD }),
      });
      const cookie = (r0.headers.get("set-cookie") ?? "").split(";")[0] as string;
      server.pause();
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      const r = await fetch(`${base}/api/grappes`, { headers: { cookie } });
      expect(r.status).toBe(503);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      const body = (await r.json()) as { code: string; detail: string };
      expect(body).toMatchObject({
        code: "base_indisponible",
        detail: expect.stringMatching(/ne répond pas/),
      });
      expect(JSON.stringify(body)).not.toMatch(/ECONN|terminat|connect /i);
      server.resume();
      for (let i = 0; i < 40 && (await fetch(`${base}/healthz`)).status !== 200; i++)
        await new Promise((res) => setTimeout(res, 250));
      expect((await fetch(`${base}/api/grappes`, { headers: { cookie } })).status).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      server.resume();
      await stopProcess(child);
    }
  });
});

describe("servers stopped during uploads", () => {
  let tmp: string;
  let dataDir: string;
  let port = 0;
  beforeAll(async () => {
    tmp = tempDir("cibles-tmpdir-");
    dataDir = tempDir();
    const db = await openDb({ dataDir });
    expect((await importReferential(db, writeTemp("referentiel.csv", REFERENTIAL))).status).toBe("loaded");
    await addUser(db, {
      email: CHEF,
      role: "chef_projet",
      region: null,
      grappes: ["T1"],
      password: PASSWORD,
    });
    await db.close();
  });

  async function start(env: Record<string, string> = {}) {
    port = await freePort();
    const child = cliProcess(["serve", "--no-demo"], {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      PSEUDONYMISATION_SECRET: SECRET,
      INGEST_CRON: "0 2 1 1 *",
      TMPDIR: tmp,
      ...env,
    });
    let log = "";
    child.stderr?.on("data", (d) => {
      log += d;
    });
    const base = `http://127.0.0.1:${port}`;
    await waitForHealth(base, () => log);
    const r = await fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email: CHEF, password: PASSWORD }),
    });
    return {
      child,
      base,
      cookie: (r.headers.get("set-cookie") ?? "").split(";")[0] as string,
      log: () => log,
    };
  }

  /** Sends `bytes` as an upload; resolves with the answer's status (or 0 when the connection was cut). */
  function send(s: { base: string; cookie: string }, name: string, bytes: Buffer) {
    const form = new FormData();
    form.set("file", new File([new Uint8Array(bytes)], name));
    return fetch(`${s.base}/api/imports`, {
      method: "POST",
      headers: { cookie: s.cookie, origin: s.base },
      body: form,
    }).then(
      async (r) => ({
        status: r.status,
        body: (await r.json().catch(() => null)) as { import_id?: number } | null,
      }),
      () => ({ status: 0, body: null }),
    );
  }

  it("kill -9 while an upload is imported: its temporary folder is gone after the next start", async () => {
    const s = await start();
    const sent = await send(s, "agenda_tue.csv", agenda(200_000, "k"));
    expect(sent.status).toBe(202);
    // The import runs in the background: its file lies in the process's temporary folder.
    expect(processFolders(tmp).length).toBe(1);
    s.child.kill("SIGKILL");
    await new Promise((r) => s.child.once("exit", r));
    expect(processFolders(tmp).length).toBe(1);
    const next = await start();
    try {
      expect(processFolders(tmp).filter((n) => !n.startsWith(`cibles-${next.child.pid}-`))).toEqual([]);
      expect(next.log()).toMatch(
        /dossier\(s\) temporaire\(s\) laissé\(s\) par un arrêt brutal : supprimé\(s\)/,
      );
    } finally {
      await stopProcess(next.child);
    }
  });

  it("SIGTERM during an import: bounded stop, the import cancelled and audited, nothing left behind", async () => {
    const s = await start({ SHUTDOWN_TIMEOUT_S: "1" });
    const sent = await send(s, "agenda_arret.csv", agenda(400_000, "t"));
    expect(sent.status).toBe(202);
    const t0 = Date.now();
    await stopProcess(s.child);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(s.log()).toMatch(/Arrêt demandé/);
    expect(processFolders(tmp)).toEqual([]);
    const db = await openDb({ dataDir });
    try {
      const [rec] = await db.query<{ status: string; message: string | null }>(
        "select status, message from import where import_id = $1",
        [sent.body?.import_id],
      );
      // Finished in time, or cancelled: never left « en cours ».
      expect(["loaded", "failed"]).toContain(rec?.status);
      if (rec?.status === "failed") {
        expect(rec.message).toMatch(/annulé par l'arrêt du serveur/);
        expect(await count(db, `agenda_event where import_id = ${sent.body?.import_id}`)).toBe(0);
      }
      const audited = await db.query<{ action: string }>(
        "select action from audit_log where entity = 'import' and entity_id = $1",
        [String(sent.body?.import_id)],
      );
      expect(audited.map((a) => a.action)).toEqual(["import.upload"]);
    } finally {
      await db.close();
    }
  });

  it("a full disk answers 507 espace_disque_insuffisant in French, and the server lives", async () => {
    const small = mountTmpfs("2m");
    try {
      const s = await start({ TMPDIR: small });
      try {
        const sent = await fetch(`${s.base}/api/imports`, {
          method: "POST",
          headers: { cookie: s.cookie, origin: s.base },
          body: (() => {
            const form = new FormData();
            form.set("file", new File([new Uint8Array(agenda(80_000, "p"))], "agenda_plein.csv"));
            return form;
          })(),
        });
        expect(sent.status).toBe(507);
        const body = (await sent.json()) as { code: string; detail: string };
        expect(body).toMatchObject({
          code: "espace_disque_insuffisant",
          detail: expect.stringMatching(/espace disque insuffisant/),
        });
        expect(Number(sent.headers.get("retry-after"))).toBeGreaterThan(0);
        expect((await fetch(`${s.base}/healthz`)).status).toBe(200);
      } finally {
        await stopProcess(s.child);
      }
    } finally {
      unmount(small);
    }
  });

  it("a read-only DATA_DIR is named at start, in French", async () => {
    const ro = mountTmpfs("1m", true);
    try {
      const r = await runCli(["serve", "--no-demo"], {
        DATA_DIR: join(ro, "donnees"),
        PSEUDONYMISATION_SECRET: SECRET,
        PORT: "0",
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /DATA_DIR \(.*donnees\) (est en lecture seule|ne peut pas être créé ou écrit)/,
      );
      expect(r.stderr).not.toMatch(/EROFS|Error:/);
    } finally {
      unmount(ro);
    }
  });
});
