/**
 * `npm run bench -- report [--scale S] [--backend pg]`: a regional dataset (at scale 1: 4 000
 * ESSMS, 400 000 usagers, about 20 000 000 agenda/MSS/DMP rows over 12 months) is generated as
 * exports, imported, then one report date and a 12-month history are timed on PostgreSQL and
 * PGlite (median of 3 runs after one warm-up). Prints Markdown rows for docs/benchmarks.md.
 */
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { type Db, openDb } from "../db/index.ts";
import { addMonths, type Day, formatDay } from "../domain/dates.ts";
import { luhnValid } from "../domain/finess.ts";
import { ingestFile } from "../ingest/pipeline.ts";
import { importReferential } from "../ingest/programme.ts";
import { computeReport, history, monthlyCounts } from "../sql/queries.ts";
import { freshPgDatabase, machine, pgUrl } from "./common.ts";
import { duckdbReference } from "./duckdb.ts";

export const SECRET = "bench-secret-0123456789";
export const LAST_MONTH: Day = "2025-09-01";
export const REPORT_DATE: Day = "2025-10-01";
const D = REPORT_DATE;

/** A deterministic generator (mulberry32): the same dataset at every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function finessAt(i: number): string {
  const body = `34${String(i).padStart(6, "0")}`;
  for (let c = 0; c < 10; c++) if (luhnValid(`${body}${c}`)) return `${body}${c}`;
  throw new Error("unreachable");
}

async function write(out: WriteStream, s: string): Promise<void> {
  if (!out.write(s)) await new Promise<void>((r) => out.once("drain", () => r()));
}

async function close(out: WriteStream): Promise<void> {
  await new Promise<void>((r) => out.end(() => r()));
}

export interface Dataset {
  dir: string;
  essms: number;
  usagers: number;
  rows: number;
}

/**
 * The regional dataset at this scale, with `monthCount` months of history ending with LAST_MONTH
 * (12 by default: the dataset of `bench -- report` and `growth`; `delivery` also builds 24).
 * Dossiers enter in the first six months; updates, exits and most recent traces fall in the last
 * months, whatever the history's length.
 */
export async function generate(scale: number, dir: string, monthCount = 12): Promise<Dataset> {
  if (!Number.isInteger(monthCount) || monthCount < 12 || monthCount > 60)
    throw new Error(`historique de 12 à 60 mois attendu, pas ${monthCount}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "exports"), { recursive: true });
  const nEssms = Math.max(10, Math.round(4000 * scale));
  const nUsagers = Math.max(100, Math.round(400_000 * scale));
  const rand = rng(42);
  const finess = Array.from({ length: nEssms }, (_, i) => finessAt(i + 1));
  const ref = createWriteStream(join(dir, "referentiel.csv"));
  await write(ref, "grappe_id;grappe_nom;region;finess;finess_ej;raison_sociale;type_projet;date_vsr\n");
  for (let i = 0; i < nEssms; i++) {
    const g = `G${String(Math.floor(i / 10)).padStart(4, "0")}`;
    await write(
      ref,
      `${g};Grappe ${g};OCC;${finess[i]};${finess[i - (i % 10)]};ESSMS ${i};acquisition;2025-06-01\n`,
    );
  }
  await close(ref);
  const files = ["dossiers", "projets_personnalises", "agenda", "mss", "dmp"] as const;
  const out = Object.fromEntries(
    files.map((k) => [k, createWriteStream(join(dir, "exports", `${k}_region.csv`))]),
  ) as Record<(typeof files)[number], WriteStream>;
  await write(
    out.dossiers,
    "finess;usager_id;date_entree;date_sortie;date_creation;date_derniere_maj;sejour_id\n",
  );
  await write(
    out.projets_personnalises,
    "finess;usager_id;pp_id;statut;date_creation;date_debut;date_fin;date_maj\n",
  );
  await write(out.agenda, "finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj\n");
  await write(out.mss, "finess;message_id;date_envoi;sens;statut;usager_id;destinataire\n");
  await write(out.dmp, "finess;document_id;usager_id;date_depot;statut;type_document\n");
  const months = Array.from({ length: monthCount }, (_, i) => addMonths(LAST_MONTH, i - monthCount + 1));
  const end = monthCount - 12; // months[end + 9] is the ninth month of the last twelve
  const day = (m: Day, d: number) => formatDay(Number(m.slice(0, 4)), Number(m.slice(5, 7)), d);
  let rows = 0;
  let ev = 0;
  for (let u = 0; u < nUsagers; u++) {
    const f = finess[u % nEssms] as string;
    const uid = `U${u}`;
    // Each ESSMS has its own pace: some on target, some lagging.
    const pace = 0.55 + (0.45 * (((u % nEssms) * 7919) % 100)) / 100;
    const entree = months[Math.floor(rand() * 6)] as Day;
    const sortie = rand() < 0.1 ? day(months[end + 8 + Math.floor(rand() * 4)] as Day, 15) : "";
    const maj = rand() < pace ? day(months[end + 9 + Math.floor(rand() * 3)] as Day, 10) : day(entree, 10);
    await write(out.dossiers, `${f};${uid};${entree};${sortie};${entree};${maj};S${u}\n`);
    if (rand() < pace)
      await write(out.projets_personnalises, `${f};${uid};P${u};ENCOURS;${entree};${entree};;${maj}\n`);
    for (const m of months) {
      // ≈ 2.5 agenda events, 0.85 MSS messages, 0.85 DMP deposits per usager-month: ≈ 50 rows a year.
      const nAgenda = rand() < pace ? 2 + Math.floor(rand() * 2) : 0;
      for (let k = 0; k < nAgenda; k++) {
        const d = day(m, 1 + Math.floor(rand() * 28));
        await write(out.agenda, `${f};${uid};E${ev++};${d} 10:00;;Réalisé;Visite;${d}\n`);
      }
      if (rand() < 0.85 * pace) {
        await write(
          out.mss,
          `${f};M${ev++};${day(m, 1 + Math.floor(rand() * 28))};envoyé;ok;${uid};medecin@exemple.mssante.fr\n`,
        );
        rows += 1;
      }
      if (rand() < 0.85 * pace) {
        await write(out.dmp, `${f};D${ev++};${uid};${day(m, 1 + Math.floor(rand() * 28))};déposé;CR\n`);
        rows += 1;
      }
      rows += nAgenda;
    }
  }
  await Promise.all(Object.values(out).map(close));
  return { dir, essms: nEssms, usagers: nUsagers, rows };
}

/** Imports a generated dataset (referential, then the five exports), analyses, vacuums; returns the ms of all but the vacuum. */
export async function loadDataset(db: Db, ds: Dataset): Promise<number> {
  const t = performance.now();
  const ref = await importReferential(db, join(ds.dir, "referentiel.csv"));
  if (ref.status !== "loaded") throw new Error(`référentiel : ${ref.message}`);
  for (const k of ["dossiers", "projets_personnalises", "agenda", "mss", "dmp"]) {
    const r = await ingestFile(db, { path: join(ds.dir, "exports", `${k}_region.csv`) }, `${k}_region.csv`, {
      secret: SECRET,
      importDay: "2025-10-15",
    });
    if (r.status !== "loaded") throw new Error(`${k} : ${r.message}`);
  }
  await db.query("analyze");
  const ms = performance.now() - t;
  // Not timed: what autovacuum does within minutes of a large load (visibility map, dead
  // versions of the rows the activity refresh updated). Without it the first timings raced
  // autovacuum on two cores: one date 1.55 s during, 0.9–1.0 s after (ADR 0017).
  await db.query("vacuum");
  return ms;
}

/** Median of 3 runs after a warm-up (ms). */
export async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[1] as number;
}

interface Timing {
  row: string;
  oneMs: number;
  histMs: number;
  counts: Map<string, string>;
}

/** Comparable counts per (D, finess), to check DuckDB computes the same thing. */
function key(d: string, finess: string): string {
  return `${d} ${finess}`;
}

async function timeBackend(name: string, db: Db, ds: Dataset): Promise<Timing> {
  const loadMs = await loadDataset(db, ds);
  const one = await median(() => computeReport(db, D));
  const hist = await median(() => history(db, addMonths(D, -11), D));
  const check = await computeReport(db, D);
  const meeting = check.grappes.filter((g) => g.eligible).length;
  process.stderr.write(
    `${name} : ${check.essms.length} ESSMS, ${meeting}/${check.grappes.length} grappes éligibles\n`,
  );
  const counts = new Map<string, string>();
  for (const [d, list] of await monthlyCounts(db, addMonths(D, -11), D))
    for (const c of list)
      counts.set(key(d, c.finess), [c.fa_computed, c.da, c.pp, c.agenda, c.mss, c.dmp].join(","));
  return {
    row: `| ${name} | ${(loadMs / 1000).toFixed(0)} s | ${(one / 1000).toFixed(2)} s | ${(hist / 1000).toFixed(2)} s |`,
    oneMs: one,
    histMs: hist,
    counts,
  };
}

export async function benchReport(scale: number, backend?: string): Promise<void> {
  const dir = join(process.cwd(), "data", "bench", `region-${scale}`);
  process.stderr.write(`Génération du jeu régional à l'échelle ${scale}…\n`);
  const ds = await generate(scale, dir);
  process.stderr.write(`${ds.essms} ESSMS, ${ds.usagers} usagers, ${ds.rows} lignes agenda/MSS/DMP\n`);
  const rows: string[] = [];
  let pg: Timing | undefined;
  const server = await pgUrl();
  try {
    const url = await freshPgDatabase(server.url, "bench_report");
    const db = await openDb({ databaseUrl: url });
    try {
      pg = await timeBackend("PostgreSQL", db, ds);
      rows.push(pg.row);
    } finally {
      await db.close();
    }
  } finally {
    server.stop();
  }
  if (backend !== "pg") {
    const dataDir = join(process.cwd(), "data", "bench", "pglite-report");
    rmSync(dataDir, { recursive: true, force: true });
    const db = await openDb({ dataDir });
    try {
      rows.push((await timeBackend("PGlite (disque)", db, ds)).row);
    } finally {
      await db.close();
    }
  }
  const months = Array.from({ length: 12 }, (_, i) => addMonths(D, i - 11));
  const duck = await duckdbReference(dir, D, months);
  let mismatches = 0;
  for (const c of duck.counts) {
    const ours = pg?.counts.get(key(c.d, c.finess));
    if (ours !== [c.fa, c.da, c.pp, c.agenda, c.mss, c.dmp].join(",")) mismatches += 1;
  }
  process.stderr.write(`DuckDB : ${duck.counts.length} comptes (D × ESSMS) comparés, ${mismatches} écarts\n`);
  if (mismatches > 0)
    throw new Error("DuckDB et PostgreSQL ne comptent pas la même chose : référence invalide");
  rows.push(
    `| DuckDB (référence, depuis les CSV) | ${(duck.loadMs / 1000).toFixed(0)} s | ${(duck.oneMs / 1000).toFixed(2)} s | ${(duck.historyMs / 1000).toFixed(2)} s |`,
  );
  if (pg)
    rows.push(
      `| PostgreSQL ÷ DuckDB | | ${(pg.oneMs / duck.oneMs).toFixed(1)} × | ${(pg.histMs / duck.historyMs).toFixed(1)} × |`,
    );
  process.stdout.write(
    `\nMachine : ${machine()} — échelle ${scale} : ${ds.essms} ESSMS, ${ds.usagers} usagers, ${ds.rows} lignes agenda/MSS/DMP, D = ${D}\n\n| base | import | une date (toutes ESSMS) | historique 12 mois |\n| --- | ---: | ---: | ---: |\n${rows.join("\n")}\n`,
  );
}
