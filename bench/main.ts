/**
 * Benchmarks (not timed tests): `npm run bench -- ingest [--rows N]` and
 * `npm run bench -- report [--scale S]`. Results go to stdout as Markdown rows for
 * docs/benchmarks.md, with the machine they ran on.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "csv-parse";
import { openDb } from "../db/index.ts";
import { importReferential } from "../ingest/programme.ts";
import { benchApi } from "./api.ts";
import { freshPgDatabase, machine, pgUrl } from "./common.ts";
import { benchDelivery } from "./delivery.ts";
import { benchGrowth } from "./growth.ts";
import { benchReport } from "./report.ts";

const { positionals, values } = parseArgs({
  args: process.argv.slice(2),
  allowPositionals: true,
  options: {
    rows: { type: "string" },
    scale: { type: "string" },
    backend: { type: "string" },
    shape: { type: "string" },
    dataset: { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    scales: { type: "string" },
    months: { type: "string" },
    json: { type: "boolean" },
    repeat: { type: "string" },
    reuse: { type: "boolean" },
  },
});

const REF = `grappe_id;grappe_nom;region;finess;finess_ej;raison_sociale;type_projet
B1;Bench;OCC;340000017;340000025;EHPAD;acquisition
B1;Bench;OCC;310000039;310000039;SAA;acquisition
`;

/**
 * The generated export. "iso" (default) is the file, ~120 MB for 2 M rows: ISO dates,
 * canonical statuses. "fr" is what many DUI write, ~175 MB: French date-times
 * (dd/mm/yyyy hh:mm, Europe/Paris), a status synonym, a longer type.
 */
const SHAPES = {
  iso: (i: number, f: string, d: string) =>
    `${f};U${String(i % 40_000).padStart(5, "0")};E${String(i).padStart(7, "0")};2025-05-${d};;${ISO_STATUT[i % 4]};RDV;2025-05-${d}\n`,
  fr: (i: number, f: string, d: string) =>
    `${f};U${String(i % 40_000).padStart(7, "0")};EV${String(i).padStart(9, "0")};${d}/05/2025 ${String(8 + (i % 10)).padStart(2, "0")}:30;;Réalisé;Visite famille;${d}/05/2025 18:00\n`,
} as const;
const ISO_STATUT = ["PLANIFIE", "VALIDE", "TERMINE", "ANNULE"] as const;
type Shape = keyof typeof SHAPES;

async function writeAgenda(path: string, rows: number, shape: Shape): Promise<void> {
  const out = createWriteStream(path);
  out.write("finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj\n");
  const line = SHAPES[shape];
  for (let i = 0; i < rows; i++) {
    const f = i % 3 === 0 ? "310000039" : "340000017";
    const d = String((i % 28) + 1).padStart(2, "0");
    if (!out.write(line(i, f, d))) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

/** Peak RSS of a child process running one import (Linux /usr/bin/time -v is not assumed). */
function importInChild(file: string, env: Record<string, string>): { ms: number; peakMb: number } {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "ingest-child.ts"), file],
    { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 },
  );
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`import enfant en échec : ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() as string) as {
    peakMb: number;
    status: string;
    ms: number;
  };
  if (out.status !== "loaded") throw new Error(`import ${out.status}`);
  return { ms: out.ms ?? ms, peakMb: out.peakMb };
}

async function benchIngest(rows: number, shape: Shape): Promise<void> {
  const dir = join(process.cwd(), "data", "bench");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "agenda_bench.csv");
  process.stderr.write(`Génération de ${rows} lignes d'agenda (forme ${shape})…\n`);
  await writeAgenda(file, rows, shape);
  const mb = statSync(file).size / 2 ** 20;
  const server = await pgUrl();
  const results: string[] = [];
  try {
    // Reference: psql \copy of the same rows into a plain table.
    const refUrl = await freshPgDatabase(server.url, "bench_copy");
    execFileSync("psql", [
      refUrl,
      "-q",
      "-c",
      "create table plain (finess text, usager_id text, evenement_id text, date_debut text, date_fin text, statut text, type text, date_maj text)",
    ]);
    const tc = performance.now();
    execFileSync("psql", [
      refUrl,
      "-q",
      "-c",
      `\\copy plain from '${file}' with (format csv, delimiter ';', header true)`,
    ]);
    const copyMs = performance.now() - tc;
    const copyRate = rows / (copyMs / 1000);
    results.push(
      `| psql \\copy (reference) | ${rows} | ${(copyMs / 1000).toFixed(1)} s | ${Math.round(copyRate)} | ${(mb / (copyMs / 1000)).toFixed(1)} | 1.00 | — |`,
    );

    const pgDb = await freshPgDatabase(server.url, "bench_ingest");
    const env = { DATABASE_URL: pgDb, PSEUDONYMISATION_SECRET: "bench-secret-0123456789" };
    await seedRef(pgDb, dir);
    const p = importInChild(file, env);
    const rate = rows / (p.ms / 1000);
    results.push(
      `| PostgreSQL (COPY → staging → merge) | ${rows} | ${(p.ms / 1000).toFixed(1)} s | ${Math.round(rate)} | ${(mb / (p.ms / 1000)).toFixed(1)} | ${(rate / copyRate).toFixed(2)} | ${p.peakMb} MB |`,
    );

    // Floors: work that any import of this file does, measured alone (one core each).
    const floor = (what: string, ms: number) =>
      results.push(
        `| ${what} | ${rows} | ${(ms / 1000).toFixed(1)} s | ${Math.round(rows / (ms / 1000))} | ${(mb / (ms / 1000)).toFixed(1)} | ${(rows / (ms / 1000) / copyRate).toFixed(2)} | — |`,
      );
    floor(
      "floor: csv-parse alone, records counted (Node, nothing validated or stored)",
      await parseOnly(file),
    );
    const ti = performance.now();
    execFileSync("psql", [
      pgDb,
      "-q",
      "-c",
      "create table floor_event (like agenda_event including all); insert into floor_event select * from agenda_event",
    ]);
    floor(
      "floor: the loaded events inserted into a copy of agenda_event (PostgreSQL alone)",
      performance.now() - ti,
    );

    if (values.backend !== "pg") {
      const dataDir = join(dir, "pglite");
      spawnSync("rm", ["-rf", dataDir]);
      const db = await openDb({ dataDir });
      await importReferential(db, writeRef(dir));
      await db.close();
      const l = importInChild(file, {
        DATA_DIR: dataDir,
        DATABASE_URL: "",
        PSEUDONYMISATION_SECRET: "bench-secret-0123456789",
      });
      const lrate = rows / (l.ms / 1000);
      results.push(
        `| PGlite on disk (COPY /dev/blob → merge) | ${rows} | ${(l.ms / 1000).toFixed(1)} s | ${Math.round(lrate)} | ${(mb / (l.ms / 1000)).toFixed(1)} | ${(lrate / copyRate).toFixed(2)} | ${l.peakMb} MB |`,
      );
    }
  } finally {
    server.stop();
  }
  process.stdout.write(
    `\nMachine : ${machine()} — fichier ${mb.toFixed(0)} Mo (forme ${shape})\n\n| pipeline | rows | time | rows/s | MB/s | × psql \\copy | peak RSS |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n${results.join("\n")}\n`,
  );
}

/** csv-parse over the file with the importer's options, records read in batches and counted. */
async function parseOnly(file: string): Promise<number> {
  const t = performance.now();
  const parser = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
    parse({ delimiter: ";", bom: true, relax_column_count: true }),
  );
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    parser.on("readable", () => {
      while (parser.read() !== null) n += 1;
    });
    parser.on("end", resolve);
    parser.on("error", reject);
  });
  if (n === 0) throw new Error("aucune ligne lue");
  return performance.now() - t;
}

function writeRef(dir: string): string {
  const p = join(dir, "referentiel.csv");
  writeFileSync(p, REF);
  return p;
}

async function seedRef(url: string, dir: string): Promise<void> {
  const db = await openDb({ databaseUrl: url });
  await importReferential(db, writeRef(dir));
  await db.close();
}

const what = positionals[0];
if (
  what === "delivery" &&
  values.reuse &&
  (values.backend ?? "pg") === "pg" &&
  !process.env.BENCH_DATABASE_URL
) {
  process.stderr.write(
    "--reuse demande BENCH_DATABASE_URL : sans lui, le serveur du banc est jetable et l'historique part avec lui\n",
  );
  process.exit(2);
}
const shape = values.shape ?? "iso";
if (what === "ingest" && (shape === "iso" || shape === "fr"))
  await benchIngest(Number(values.rows ?? 2_000_000), shape);
else if (what === "report") await benchReport(Number(values.scale ?? 1), values.backend);
else if (
  what === "delivery" &&
  (values.backend ?? "pg").match(/^(pg|pglite)$/) &&
  Number(values.scale ?? 0.1) > 0 &&
  (values.months ?? "12,24").split(",").every((m) => /^\d+$/.test(m) && Number(m) >= 12 && Number(m) <= 60) &&
  /^([1-9]|1\d|20)$/.test(values.repeat ?? "3")
)
  await benchDelivery({
    scale: Number(values.scale ?? 0.1),
    months: (values.months ?? "12,24").split(",").map(Number),
    backend: (values.backend ?? "pg") as "pg" | "pglite",
    json: values.json === true,
    repeat: Number(values.repeat ?? 3),
    reuse: values.reuse === true,
  });
else if (what === "growth") await benchGrowth((values.scales ?? "0.1,0.3,1").split(",").map(Number));
else if (what === "api" && (values.dataset ?? "demo").match(/^(demo|region)$/))
  await benchApi(
    {
      dataset: (values.dataset ?? "demo") as "demo" | "region",
      scale: Number(values.scale ?? 1),
      rate: Number(values.rate ?? 200),
      duration: Number(values.duration ?? 30),
    },
    values.backend,
  );
else {
  process.stderr.write(
    "usage : npm run bench -- ingest [--rows N] [--shape iso|fr] [--backend pg] | report [--scale S] [--backend pg] | api [--dataset demo|region] [--scale S] [--backend pg|pglite] [--rate R] [--duration S] | growth [--scales 0.1,0.3,1] | delivery [--scale S] [--months 12,24] [--backend pg|pglite] [--json] [--repeat N] [--reuse]\n",
  );
  process.exitCode = 2;
}
