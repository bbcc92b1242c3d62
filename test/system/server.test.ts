/** `npm start` as a newcomer runs it: the server answers /healthz and the demo grappe is loaded. */
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "../../db/index.ts";
import { DEMO_USERS } from "../../fixtures/seed.ts";
import { cliProcess, freePort, stopProcess, waitForHealth } from "../support/cli-run.ts";
import { SECRET, tempDir } from "../support/helpers.ts";

describe("serve on an empty embedded database", () => {
  const dataDir = tempDir();
  let port: number;
  let child: ReturnType<typeof cliProcess>;
  let log = "";
  beforeAll(async () => {
    port = await freePort();
    // A file waiting in the inbox: the scheduled ingest (every second here) must pick it up.
    const inbox = join(dataDir, "inbox");
    mkdirSync(inbox, { recursive: true });
    writeFileSync(join(inbox, "agenda_incomplet.csv"), "finess;usager_id\n340000017;u1\n");
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(inbox, "agenda_incomplet.csv"), old, old);
    child = cliProcess(["serve"], {
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      PSEUDONYMISATION_SECRET: SECRET,
      INGEST_CRON: "* * * * * *",
    });
    child.stderr?.on("data", (d) => {
      log += d;
    });
    await waitForHealth(`http://127.0.0.1:${port}`, () => log);
  });
  afterAll(async () => {
    await stopProcess(child);
  });

  it("answers /healthz with 200 over real HTTP", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("comes with one demo user per role, printed at first start, scoped to the demo grappe", async () => {
    expect(log).toMatch(/Comptes de DÉMONSTRATION/);
    const base = `http://127.0.0.1:${port}`;
    for (const u of DEMO_USERS) {
      expect(log).toContain(u.email);
      const login = await fetch(`${base}/api/session`, {
        method: "POST",
        // as the dashboard served by this server sends it (writes need a same-origin Origin)
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ email: u.email, password: u.password }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
      const grappes = (await (await fetch(`${base}/api/grappes`, { headers: { cookie } })).json()) as {
        grappe_id: string;
      }[];
      expect(grappes.map((g) => g.grappe_id)).toEqual(["DEMO-OCC-01"]);
    }
  });

  it("runs the scheduled ingest of the inbox", async () => {
    const note = join(dataDir, "inbox", "refused", "agenda_incomplet.erreur.txt");
    const deadline = Date.now() + 20_000;
    while (!existsSync(note) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(note, "utf8")).toMatch(
      /Fichier REFUSÉ, aucune ligne chargée : colonnes obligatoires manquantes/,
    );
    expect(log).toMatch(/Import planifié : boîte de dépôt .*inbox, « \* \* \* \* \* \* »/);
    // Without SMTP_URL the product starts, and says that it tells people in the application only.
    expect(log).toContain(
      "Courriels désactivés (SMTP_URL absent) : notifications dans l'application seulement.",
    );
  });

  it("loaded the demo grappe: 16 ESSMS of mixed categories, 12 months of exports", async () => {
    expect(log).toMatch(/Démonstration chargée : grappe DEMO-OCC-01, 60 fichiers/);
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    const db = await openDb({ dataDir });
    try {
      const [g] = await db.query<{ n: number; categories: number }>(
        "select count(*)::int as n, count(distinct categorie)::int as categories from essms where grappe_id = 'DEMO-OCC-01'",
      );
      expect(g).toEqual({ n: 16, categories: 13 });
      const [i] = await db.query<{ n: number }>(
        "select count(*)::int as n from import where status = 'loaded'",
      );
      expect(i?.n).toBe(60);
    } finally {
      await db.close();
    }
  });
});
