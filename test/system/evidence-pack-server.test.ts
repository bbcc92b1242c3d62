/**
 * Issue 29, kind 4, against the real server process (`serve`, 127.0.0.1 only, bounded loops), on
 * both backends: 200 MB of proofs from one AMOA (40 files of 5 Mo, checked and stored as uploads
 * are), then the ARS downloads the evidence pack. The download starts at once, the server's
 * resident memory grows by less than 300 MB (it held the whole pack before: +1.2 GB), /healthz and
 * another user's page answer within 2 s throughout, a reader that stops reading for a while is not
 * answered ahead (memory flat meanwhile), and every proof is in the pack byte for byte.
 */
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openDb } from "../../db/index.ts";
import { checkProof } from "../../ingest/proofs.ts";
import { attachPiece, proposeAdjustment } from "../../services/adjustments.ts";
import { freezeReport } from "../../services/snapshots.ts";
import { oppositionProposal, PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends } from "../support/backend-test.ts";
import { cliProcess, freePort, stopProcess, waitForHealth } from "../support/cli-run.ts";
import { createPgDatabase, SECRET, tempDir } from "../support/helpers.ts";
import { scannedPdf } from "../support/proofs.ts";
import { storedEntrySha256, zipEntries } from "../support/zip-read.ts";

/** Resets a process's peak resident memory (proc(5): clear_refs, 5), so that a test measures its own. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** A process's resident memory now and at its peak (VmRSS, VmHWM; MB). */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

const PROOFS = 40;
const PROOF_BYTES = 5 * 1024 * 1024 - 4096;

describeOnBackends("the evidence pack of 200 MB of proofs, from the real server", {}, (backend) => {
  let base = "";
  let child: ReturnType<typeof cliProcess>;
  let log = "";
  let snapshotId = 0;
  const stored = new Map<string, string>();

  beforeAll(async () => {
    const dataDir = tempDir();
    const databaseUrl = backend === "pg" ? await createPgDatabase() : "";
    const db = await openDb(backend === "pg" ? { databaseUrl } : { dataDir });
    await populate(db);
    // 200 MB from one AMOA: 4 proposals of 10 proofs, each checked and stored as an upload is.
    for (let i = 0; i < PROOFS; i++) {
      const id =
        i % 10 === 0
          ? (await proposeAdjustment(db, oppositionProposal("340000017"), USERS.amoa?.email as string))
              .amenagement_id
          : ((await db.query<{ id: number }>("select max(amenagement_id)::int as id from amenagement"))[0]
              ?.id as number);
      const proof = await checkProof(scannedPdf(PROOF_BYTES, 100 + i));
      const piece = await attachPiece(db, id, proof, USERS.amoa?.email as string);
      stored.set(`pieces/amenagement${id}_piece${piece.piece_id}.pdf`, piece.sha256);
    }
    snapshotId = (await freezeReport(db, "2025-07-01", "T1", USERS.ars?.email as string)).snapshot_id;
    await db.close();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = cliProcess(["serve", "--no-demo"], {
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      PSEUDONYMISATION_SECRET: SECRET,
      INGEST_CRON: "0 2 1 1 *",
    });
    child.stderr?.on("data", (d) => {
      log += d;
    });
    await waitForHealth(base, () => log);
  });
  afterAll(() => stopProcess(child));

  const session = async (who: keyof typeof USERS) => {
    const r = await fetch(`${base}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email: USERS[who]?.email, password: PASSWORD }),
    });
    expect(r.status).toBe(200);
    return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
  };

  it("streams it: first bytes at once, memory bounded, /healthz and another user's page within 2 s", async () => {
    const pid = child.pid as number;
    const [ars, chef] = [await session("ars"), await session("chef_projet")];
    // Warm: the page and the pack's small files once (code paths loaded, caches filled).
    expect(
      (await fetch(`${base}/api/grappes/T1?date=2025-07-01`, { headers: { cookie: chef } })).status,
    ).toBe(200);
    const before = memoryMb(pid).rss;
    resetPeak(pid);

    let bytes = 0;
    let slowestHealth = 0;
    let slowestPage = 0;
    let polls = 0;
    let done = false;
    const poll = (async () => {
      while (!done && polls < 2000) {
        polls++;
        let t = performance.now();
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
        slowestHealth = Math.max(slowestHealth, performance.now() - t);
        t = performance.now();
        const page = await fetch(`${base}/api/grappes/T1?date=2025-07-01`, { headers: { cookie: chef } });
        expect(page.status).toBe(200);
        await page.arrayBuffer();
        slowestPage = Math.max(slowestPage, performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const path = join(tempDir(), "preuves.zip");
    const out = createWriteStream(path);
    const started = performance.now();
    let firstByteMs = 0;
    let pausedGrowth = 0;
    try {
      const res = await fetch(`${base}/api/grappes/T1/evidence?snapshot=${snapshotId}`, {
        headers: { cookie: ars },
      });
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let paused = false;
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        if (bytes === 0) firstByteMs = performance.now() - started;
        bytes += value.length;
        if (!out.write(value)) await new Promise<void>((r) => out.once("drain", () => r()));
        // Half-way, the reader stops reading for 2 s: the server must not read ahead meanwhile.
        if (!paused && bytes > 100 * 1024 * 1024) {
          paused = true;
          const atPause = memoryMb(pid).rss;
          await new Promise((r) => setTimeout(r, 2000));
          pausedGrowth = memoryMb(pid).rss - atPause;
        }
      }
    } finally {
      done = true;
      await new Promise<void>((r) => out.end(() => r()));
    }
    await poll;
    const totalMs = performance.now() - started;
    const { peak } = memoryMb(pid);
    process.stderr.write(
      `[${backend}] dossier de preuve de ${(bytes / 1048576).toFixed(0)} Mo (${PROOFS} pièces) : premier octet ${firstByteMs.toFixed(0)} ms, tout ${(totalMs / 1000).toFixed(1)} s ; mémoire du serveur ${before.toFixed(0)} Mo avant, ${peak.toFixed(0)} Mo au plus (+${(peak - before).toFixed(0)} Mo), +${pausedGrowth.toFixed(0)} Mo pendant 2 s sans lecture ; /healthz ${slowestHealth.toFixed(0)} ms au plus, page ${slowestPage.toFixed(0)} ms au plus (${polls} tours)\n`,
    );
    expect(bytes).toBeGreaterThan(PROOFS * PROOF_BYTES);
    expect(firstByteMs).toBeLessThan(2000);
    expect(peak - before).toBeLessThan(300);
    expect(pausedGrowth).toBeLessThan(20);
    expect(polls).toBeGreaterThan(1);
    expect(slowestHealth).toBeLessThan(2000);
    expect(slowestPage).toBeLessThan(2000);
    // Every proof in the pack, byte for byte.
    const entries = zipEntries(path);
    for (const [name, sha] of stored) {
      const entry = entries.find((e) => e.name === name);
      expect(entry, name).toBeDefined();
      expect(await storedEntrySha256(path, entry as never)).toBe(sha);
    }
    expect(log).not.toMatch(/"level":"error"/);
  });
});
