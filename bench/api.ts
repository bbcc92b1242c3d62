/**
 * `npm run bench -- api [--dataset demo|region] [--scale S] [--backend pg|pglite] [--rate R]
 * [--duration S]` (issue 18 §3): the built server (`node dist/cli/main.js serve`) is started on
 * PostgreSQL and on the embedded database, with the demo grappe (16 ESSMS, seeded by the server's
 * first start) or with the regional dataset of `bench -- report` (4 000 ESSMS at scale 1). Then,
 * logged in as the grappe's chef de projet:
 * - **cold**: 20 requests one after the other, each for a date not asked before (so each one
 *   computes its figures: what the first request after a change costs);
 * - **warm**: autocannon at a fixed rate (200 requests/s, 30 s) on each route the pages call, and
 *   on `/api/me` in the same run for the ratio;
 * - **regular**: the same rate as an open-loop arrival, one request every 5 ms (`paced`): the
 *   latency a user sees when requests arrive evenly, a server falling behind charged its queue.
 * Prints Markdown rows (p50, p99, errors, ratio of p99 to `/api/me`'s) for docs/benchmarks.md.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import { join } from "node:path";
import autocannon from "autocannon";
import { openDb } from "../db/index.ts";
import { addDays } from "../domain/dates.ts";
import { addUser } from "../services/accounts.ts";
import { freePort, stopProcess, waitForHealth } from "../test/support/cli-run.ts";
import { freshPgDatabase, machine, pgUrl } from "./common.ts";
import { generate, loadDataset } from "./report.ts";

const ROOT = join(import.meta.dirname, "..");
const SECRET = "bench-secret-0123456789";
const BENCH_USER = { email: "chef.bench@bench.invalid", password: "mot-de-passe-du-banc-d-essai" };
const DEMO_CHEF = { email: "chef.projet@demo.invalid", password: "demo-chef-ne-pas-utiliser" };

interface Target {
  label: string;
  path: (d: string) => string;
}

interface Options {
  dataset: "demo" | "region";
  scale: number;
  rate: number;
  duration: number;
}

function startServer(env: Record<string, string>, port: number): ChildProcess {
  return spawn(
    process.execPath,
    [join(ROOT, "dist", "cli", "main.js"), "serve", ...(env.NO_DEMO ? ["--no-demo"] : [])],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: "",
        ...env,
        PORT: String(port),
        HOST: "127.0.0.1",
        INGEST_CRON: "0 2 1 1 *",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
}

async function login(base: string, who: { email: string; password: string }): Promise<string> {
  const r = await fetch(`${base}/api/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify(who),
  });
  if (r.status !== 200) throw new Error(`connexion refusée (${r.status})`);
  return (r.headers.get("set-cookie") ?? "").split(";")[0] as string;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/** 20 requests one after the other, each for a date not asked before: p50 and p99 (ms). */
async function cold(
  base: string,
  cookie: string,
  t: Target,
  firstDay: string,
): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    const r = await fetch(`${base}${t.path(addDays(firstDay, -i))}`, { headers: { cookie } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${t.label} : HTTP ${r.status}`);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

interface Warm {
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

/** autocannon at a fixed overall rate; errors count timeouts, resets and non-2xx answers. */
async function warm(base: string, cookie: string, path: string, o: Options): Promise<Warm> {
  const r = await autocannon({
    url: `${base}${path}`,
    connections: 20,
    overallRate: o.rate,
    duration: o.duration,
    headers: { cookie, "accept-encoding": "br, gzip" },
    timeout: 10,
  });
  return {
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    requests: r.requests.total,
  };
}

/**
 * The same rate as an open-loop arrival: one request every 1000/rate ms, each sent at its time
 * whether or not the previous ones have answered (keep-alive connections, as many as needed), its
 * latency counted from the time it was due (so a server that falls behind is charged for the
 * wait). autocannon's `overallRate` sends each second's requests at the top of the second, 20 at
 * a time, and its p50/p99 include the queue of that burst.
 */
async function paced(base: string, cookie: string, path: string, o: Options): Promise<Warm> {
  const agent = new Agent({ keepAlive: true });
  const gap = 1000 / o.rate;
  const n = Math.round(o.rate * o.duration);
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const due = t0 + i * gap;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        new Promise<void>((resolve) => {
          const req = httpGet(
            `${base}${path}`,
            { agent, headers: { cookie, "accept-encoding": "br, gzip" }, timeout: 10_000 },
            (res) => {
              res.resume();
              res.on("end", () => {
                if (res.statusCode === 200) latencies.push(performance.now() - due);
                else errors++;
                resolve();
              });
            },
          );
          req.on("timeout", () => req.destroy());
          req.on("error", () => {
            errors++;
            resolve();
          });
        }),
      );
    }
    await Promise.all(pending);
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: Math.round(quantile(latencies, 0.5)),
    p99: Math.round(quantile(latencies, 0.99)),
    errors,
    requests: n,
  };
}

async function prepareRegion(
  o: Options,
  backend: "pg" | "pglite",
  env: Record<string, string>,
): Promise<string> {
  const dir = join(ROOT, "data", "bench", `region-${o.scale}`);
  process.stderr.write(`Génération et import du jeu régional (échelle ${o.scale})…\n`);
  const ds = await generate(o.scale, dir);
  const db = await openDb(backend === "pg" ? { databaseUrl: env.DATABASE_URL } : { dataDir: env.DATA_DIR });
  try {
    await loadDataset(db, ds);
    await addUser(db, { ...BENCH_USER, role: "chef_projet", region: null, grappes: ["G0000"] });
  } finally {
    await db.close();
  }
  return "G0000";
}

async function runBackend(backend: "pg" | "pglite", o: Options): Promise<string[]> {
  const env: Record<string, string> = { PSEUDONYMISATION_SECRET: SECRET };
  const pgServer = backend === "pg" ? await pgUrl() : null;
  const rows: string[] = [];
  let child: ChildProcess | undefined;
  try {
    env.DATA_DIR = join(ROOT, "data", "bench", `${backend}-api`);
    rmSync(env.DATA_DIR, { recursive: true, force: true });
    if (pgServer) env.DATABASE_URL = await freshPgDatabase(pgServer.url, "bench_api");
    let grappe = "DEMO-OCC-01";
    let who = DEMO_CHEF;
    if (o.dataset === "region") {
      grappe = await prepareRegion(o, backend, env);
      who = BENCH_USER;
      env.NO_DEMO = "1";
    }
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let log = "";
    child = startServer(env, port);
    child.stderr?.on("data", (d) => {
      log += d;
    });
    await waitForHealth(base, () => log);
    const cookie = await login(base, who);
    const today = new Date().toISOString().slice(0, 10);
    const detail = (await (await fetch(`${base}/api/grappes/${grappe}`, { headers: { cookie } })).json()) as {
      essms: { finess: string }[];
    };
    const finess = detail.essms[0]?.finess;
    if (!finess) throw new Error("aucun ESSMS dans la grappe");
    const targets: Target[] = [
      { label: "page grappe `/api/grappes/:id`", path: (d) => `/api/grappes/${grappe}?date=${d}` },
      { label: "page ESSMS `/api/essms/:finess/page`", path: (d) => `/api/essms/${finess}/page?date=${d}` },
      {
        label: "historique `/api/essms/:finess/history`",
        path: (d) => `/api/essms/${finess}/history?to=${d}`,
      },
    ];
    const me = await warm(base, cookie, "/api/me", o);
    const meRegular = await paced(base, cookie, "/api/me", o);
    const name = backend === "pg" ? "PostgreSQL" : "PGlite";
    const regular = (w: Warm, ref: Warm) =>
      `${w.p50} / ${w.p99} ms | ${w.errors}/${w.requests} | ${(w.p99 / Math.max(ref.p99, 1)).toFixed(1)} ×`;
    rows.push(
      `| ${name} | \`/api/me\` (référence) | — | ${me.p50} ms | ${me.p99} ms | ${me.errors}/${me.requests} | 1.0 × | ${regular(meRegular, meRegular)} |`,
    );
    for (const t of targets) {
      const c = await cold(base, cookie, t, addDays(today, -1));
      const w = await warm(base, cookie, t.path(today), o);
      const r = await paced(base, cookie, t.path(today), o);
      rows.push(
        `| ${name} | ${t.label} | ${c.p50.toFixed(0)} / ${c.p99.toFixed(0)} ms | ${w.p50} ms | ${w.p99} ms | ${w.errors}/${w.requests} | ${(w.p99 / Math.max(me.p99, 1)).toFixed(1)} × | ${regular(r, meRegular)} |`,
      );
    }
  } finally {
    await stopProcess(child);
    pgServer?.stop();
  }
  return rows;
}

export async function benchApi(o: Options, backend?: string): Promise<void> {
  process.stderr.write("Construction (npm run build)…\n");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
  const rows: string[] = [];
  const backends: ("pg" | "pglite")[] =
    backend === "pg" || backend === "pglite" ? [backend] : ["pg", "pglite"];
  for (const b of backends) rows.push(...(await runBackend(b, o)));
  const what =
    o.dataset === "demo" ? "grappe de démonstration (16 ESSMS)" : `jeu régional à l'échelle ${o.scale}`;
  process.stdout.write(
    `\nMachine : ${machine()} — ${what}, ${o.rate} requêtes/s pendant ${o.duration} s (à chaud)\n\n| base | route | à froid p50 / p99 | à chaud p50 | à chaud p99 | erreurs | p99 ÷ p99 \`/api/me\` | régulier p50 / p99 | erreurs (régulier) | p99 ÷ \`/api/me\` (régulier) |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n${rows.join("\n")}\n`,
  );
}
