/**
 * `npm run bench -- delivery --scale S --months 12,24 [--backend pg|pglite] [--json] [--repeat N] [--reuse]` (issue 36
 * §2): a region's monthly delivery — the agenda, MS Santé and DMP exports of its ESSMS for the
 * last month — imported through the product's importer, on top of a history of that many months.
 *
 * For each history length, the regional dataset of `bench -- report` (scale 1: 4 000 ESSMS,
 * 400 000 usagers) is generated with that many months. The history is built fast: the referential,
 * dossiers and projets personnalisés through the importer (one row per usager); every month but
 * the last of agenda, MSS and DMP bulk-loaded straight into the fact tables (keyed ids and usager
 * keys computed as the importer computes them), then `usager_month` refreshed once from the facts
 * (`refresh_usager_month`, as `refresh --all`), analysed and vacuumed. The last month's three
 * files are then imported in a child process (its own peak RSS), as one delivery, and timed: N
 * times (default 3), each on a fresh copy of the history (a template database, or a copied data
 * directory), the history lengths alternated; the medians are printed.
 * The comparison point is `psql \copy` of the same three files into unindexed tables of text
 * columns on the same server (PostgreSQL only: `ratio` = copy time ÷ delivery time, higher is
 * better; `null` on PGlite).
 *
 * `--reuse` takes the history an earlier run built for the same scale and history length on the
 * same server, when all of it is still there (`data/bench/delivery-S-M/historique.json`, the
 * files it names, its database or data directory), instead of building it again: minutes saved
 * per try when measuring a change of the import. On PostgreSQL it needs `BENCH_DATABASE_URL` (a
 * server that keeps its databases); the history is the one the code of that earlier run built,
 * the migrations since then applied when the delivery opens its copy.
 *
 * Prints a Markdown table, or with `--json` one document:
 * `{ "runs": [ { "months", "rows", "seconds", "copy_seconds", "ratio", "peak_rss_mb" } ] }`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, createReadStream, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { type Db, openDb } from "../db/index.ts";
import { ingestFile } from "../ingest/pipeline.ts";
import { importReferential } from "../ingest/programme.ts";
import { type IdentifierKind, keyIdentifier, pseudonymise } from "../ingest/pseudonym.ts";
import { freshPgDatabase, machine, pgUrl } from "./common.ts";
import { split } from "./growth.ts";
import { type Dataset, finessAt, generate, LAST_MONTH, SECRET } from "./report.ts";

const ROOT = join(import.meta.dirname, "..");
const DELIVERY = ["agenda", "mss", "dmp"] as const;
type DeliveryKind = (typeof DELIVERY)[number];

/** One history length's measure, as `--json` prints it. */
export interface DeliveryRun {
  months: number;
  /** rows of the delivered month (three files) */
  rows: number;
  /** the delivery through the importer, in its own process (s) */
  seconds: number;
  /** psql \copy of the same files into unindexed tables (s); null on PGlite */
  copy_seconds: number | null;
  /** copy_seconds ÷ seconds; null on PGlite */
  ratio: number | null;
  /** the importing process's peak RSS (MB) */
  peak_rss_mb: number;
}

/**
 * How a bulk-loaded history row of the generator becomes a fact row: the fact table, its columns,
 * and the row (the generator's cells, the usager's key, the import) as the importer would store
 * it. The generator writes one status per kind; any other value stops the benchmark.
 */
const BULK: Record<
  DeliveryKind,
  {
    table: string;
    columns: string[];
    row: (
      c: string[],
      key: (k: IdentifierKind, id: string) => string,
      usager: (uid: string) => number,
      importId: number,
    ) => string;
  }
> = {
  // finess;usager_id;evenement_id;date_debut;date_fin;statut;type;date_maj
  agenda: {
    table: "agenda_event",
    columns: [
      "finess",
      "evenement_id",
      "usager",
      "date_debut",
      "date_fin",
      "statut",
      "type",
      "date_maj",
      "import_id",
    ],
    row: (c, key, usager, importId) => {
      expectCell(c[5], "Réalisé");
      return `${c[0]},${key("evenement", c[2] as string)},${usager(c[1] as string)},${(c[3] as string).slice(0, 10)},,TERMINE,${c[6]},${c[7]},${importId}\n`;
    },
  },
  // finess;message_id;date_envoi;sens;statut;usager_id;destinataire
  mss: {
    table: "mss_message",
    columns: ["finess", "message_id", "date_envoi", "sens", "statut", "usager", "import_id"],
    row: (c, key, usager, importId) => {
      expectCell(c[3], "envoyé");
      expectCell(c[4], "ok");
      return `${c[0]},${key("message", c[1] as string)},${c[2]},ENVOYE,OK,${usager(c[5] as string)},${importId}\n`;
    },
  },
  // finess;document_id;usager_id;date_depot;statut;type_document
  dmp: {
    table: "dmp_document",
    columns: ["finess", "document_id", "usager", "date_depot", "statut", "type_document", "import_id"],
    row: (c, key, usager, importId) => {
      expectCell(c[4], "déposé");
      return `${c[0]},${key("document", c[1] as string)},${usager(c[2] as string)},${c[3]},DEPOSE,${c[5]},${importId}\n`;
    },
  },
};

function expectCell(cell: string | undefined, expected: string): void {
  if (cell !== expected)
    throw new Error(`ligne du générateur inattendue : « ${cell} » au lieu de « ${expected} »`);
}

/** The CSV of a history file's fact rows, in batches of about 1 MB (COPY input). */
async function* factRows(
  path: string,
  kind: DeliveryKind,
  usagers: Map<string, number>,
  importId: number,
): AsyncGenerator<string> {
  const def = BULK[kind];
  const usager = (uid: string) => usagers.get(uid) ?? fail(`usager inconnu ${uid}`);
  let batch = "";
  let header = true;
  for await (const line of createInterface({ input: createReadStream(path) })) {
    if (header) {
      header = false;
      continue;
    }
    const c = line.split(";");
    const finess = c[0] as string;
    batch += def.row(
      c,
      (k, id) => keyIdentifier(SECRET, k, finess, id),
      (uid) => usager(`${finess};${uid}`),
      importId,
    );
    if (batch.length > 1 << 20) {
      yield batch;
      batch = "";
    }
  }
  if (batch) yield batch;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Imports one generated file through the importer (the history's per-usager files). */
async function load(db: Db, path: string): Promise<void> {
  const r = await ingestFile(db, { path }, basename(path), { secret: SECRET, importDay: "2025-10-15" });
  if (r.status !== "loaded") throw new Error(`${basename(path)} : ${r.message}`);
}

/** The history: every month but the last, in the database, usager_month refreshed once. */
export async function buildHistory(db: Db, ds: Dataset, before: Record<DeliveryKind, string>): Promise<void> {
  const exp = (k: string) => join(ds.dir, "exports", `${k}_region.csv`);
  const ref = await importReferential(db, join(ds.dir, "referentiel.csv"));
  if (ref.status !== "loaded") throw new Error(`référentiel : ${ref.message}`);
  await load(db, exp("dossiers"));
  await load(db, exp("projets_personnalises"));
  // The usagers' keys, as the dossiers import registered them (same pseudonyms, same secret).
  const byPseudonym = new Map(
    (await db.query<{ usager: number; pseudonym: string }>("select usager, pseudonym from usager")).map(
      (r) => [r.pseudonym, r.usager],
    ),
  );
  const usagers = new Map<string, number>();
  for (let u = 0; u < ds.usagers; u++) {
    const f = finessAt((u % ds.essms) + 1);
    const key = byPseudonym.get(pseudonymise(SECRET, f, `U${u}`));
    if (key !== undefined) usagers.set(`${f};U${u}`, key);
  }
  const [{ id }] = (await db.query<{ id: number }>("select max(import_id)::int as id from import")) as [
    { id: number },
  ];
  await db.transaction(async (tx) => {
    for (const kind of DELIVERY)
      await tx.copyCsv(BULK[kind].table, BULK[kind].columns, factRows(before[kind], kind, usagers, id));
    await tx.query("select refresh_usager_month(null, array['dossier', 'pp', 'agenda', 'dmp'])");
  });
  await db.query("analyze");
  // What autovacuum does within minutes of a large load (visibility map); PGlite never does it.
  await db.query("vacuum");
}

/** The delivery, in a child process: the three files through the importer. */
function deliverInChild(files: string[], env: Record<string, string>): { ms: number; peakMb: number } {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "ingest-child.ts"), ...files],
    { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`livraison en échec : ${r.stderr}`);
  if (process.env.CIBLES_TIMINGS === "1") process.stderr.write(r.stderr); // the import's phases
  const out = JSON.parse(r.stdout.trim().split("\n").pop() as string) as {
    status: string;
    ms: number;
    peakMb: number;
  };
  if (out.status !== "loaded") throw new Error(`livraison : ${out.status}`);
  return { ms: out.ms, peakMb: out.peakMb };
}

/** psql \copy of the same files into unindexed tables of text columns (s). */
function copySeconds(url: string, files: Record<DeliveryKind, string>): number {
  const cols: Record<DeliveryKind, number> = { agenda: 8, mss: 7, dmp: 6 };
  const create = DELIVERY.map(
    (k) => `create table copy_${k} (${Array.from({ length: cols[k] }, (_, i) => `c${i} text`).join(", ")});`,
  ).join(" ");
  execFileSync("psql", [url, "-q", "-c", create]);
  const t = performance.now();
  for (const k of DELIVERY)
    execFileSync("psql", [
      url,
      "-q",
      "-c",
      `\\copy copy_${k} from '${files[k]}' with (format csv, delimiter ';', header true)`,
    ]);
  return (performance.now() - t) / 1000;
}

/** One history length, built once: its delivery's files and where its history lives. */
interface Built {
  months: number;
  rows: number;
  last: Record<DeliveryKind, string>;
  /** PostgreSQL: the database to copy for each delivery (a template); PGlite: the data directory */
  source: string;
}

/**
 * What `--reuse` finds of an earlier build: its server (the PostgreSQL URL, or "pglite") and what
 * it built, written next to its files once the history is complete.
 */
interface BuiltMark {
  server: string;
  built: Built;
}

/**
 * An earlier build of this scale and history length on this server, when `--reuse` asks for it
 * and it is all there (its files, and its database or data directory); null otherwise.
 */
async function earlierBuild(mark: string, server: string, admin: string | null): Promise<Built | null> {
  if (!existsSync(mark)) return null;
  const m = JSON.parse(readFileSync(mark, "utf8")) as BuiltMark;
  if (m.server !== server || !Object.values(m.built.last).every((f) => existsSync(f))) return null;
  if (!admin) return existsSync(m.built.source) ? m.built : null;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    const r = await c.query("select 1 from pg_database where datname = $1", [m.built.source]);
    return r.rowCount === 1 ? m.built : null;
  } finally {
    await c.end();
  }
}

async function build(scale: number, months: number, admin: string | null, reuse: boolean): Promise<Built> {
  const dir = join(ROOT, "data", "bench", `delivery-${scale}-${months}`);
  const mark = join(dir, "historique.json");
  const server = admin ?? "pglite";
  const earlier = reuse ? await earlierBuild(mark, server, admin) : null;
  if (earlier) {
    process.stderr.write(`Échelle ${scale}, ${months} mois : historique réutilisé (${earlier.source})\n`);
    return earlier;
  }
  rmSync(mark, { force: true });
  process.stderr.write(`Échelle ${scale}, ${months} mois : génération…\n`);
  const ds = await generate(scale, dir, months);
  const parts = await Promise.all(
    DELIVERY.map((k) => split(join(dir, "exports", `${k}_region.csv`), LAST_MONTH)),
  );
  const before = Object.fromEntries(DELIVERY.map((k, i) => [k, parts[i]?.before])) as Record<
    DeliveryKind,
    string
  >;
  const last = Object.fromEntries(DELIVERY.map((k, i) => [k, parts[i]?.last])) as Record<
    DeliveryKind,
    string
  >;
  // one database per scale and history length: `--reuse` finds each where its mark says
  const name = `bench_delivery_${String(scale).replace(".", "_")}_${months}`;
  const url = admin ? await freshPgDatabase(admin, name) : null;
  const dataDir = join(dir, "pglite");
  rmSync(dataDir, { recursive: true, force: true });
  process.stderr.write(`Échelle ${scale}, ${months} mois : historique (${months - 1} mois en masse)…\n`);
  const t = performance.now();
  const db = await openDb(url ? { databaseUrl: url } : { dataDir });
  try {
    await buildHistory(db, ds, before);
  } finally {
    await db.close();
  }
  process.stderr.write(`  historique construit en ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  const built = {
    months,
    rows: parts.reduce((s, p) => s + p.lastRows, 0),
    last,
    source: url ? name : dataDir,
  };
  writeFileSync(mark, JSON.stringify({ server, built } satisfies BuiltMark));
  return built;
}

/** One delivery on a fresh copy of the built history (dropped after): its time (s) and peak RSS. */
async function deliverOnce(
  b: Built,
  admin: string | null,
): Promise<{ seconds: number; peakMb: number; copy: number | null }> {
  const files = DELIVERY.map((k) => b.last[k]);
  if (admin) {
    const url = await freshPgDatabase(admin, "bench_delivery_run", b.source);
    const d = deliverInChild(files, { DATABASE_URL: url, PSEUDONYMISATION_SECRET: SECRET });
    const copy = copySeconds(await freshPgDatabase(admin, "bench_delivery_copy"), b.last);
    return { seconds: d.ms / 1000, peakMb: d.peakMb, copy };
  }
  const runDir = `${b.source}-run`;
  rmSync(runDir, { recursive: true, force: true });
  cpSync(b.source, runDir, { recursive: true });
  const d = deliverInChild(files, { DATA_DIR: runDir, DATABASE_URL: "", PSEUDONYMISATION_SECRET: SECRET });
  rmSync(runDir, { recursive: true, force: true });
  return { seconds: d.ms / 1000, peakMb: d.peakMb, copy: null };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * The benchmark: each history length built once, then `repeat` deliveries of each, alternated
 * (12, 24, 12, 24, …) on fresh copies of their history, so that a drift of the machine falls on
 * both; the medians printed, as Markdown (with min–max) or one JSON document.
 */
export async function benchDelivery(o: {
  scale: number;
  months: number[];
  backend: "pg" | "pglite";
  json: boolean;
  repeat: number;
  reuse: boolean;
}): Promise<void> {
  const server = o.backend === "pg" ? await pgUrl() : null;
  const admin = server?.url ?? null;
  const runs: DeliveryRun[] = [];
  const spread: string[] = [];
  try {
    const built: Built[] = [];
    for (const m of o.months) built.push(await build(o.scale, m, admin, o.reuse));
    const times = built.map(() => ({ seconds: [] as number[], copy: [] as number[], peak: 0 }));
    for (let r = 0; r < o.repeat; r++)
      for (const [i, b] of built.entries()) {
        process.stderr.write(`Livraison ${r + 1}/${o.repeat} sur ${b.months} mois d'historique…\n`);
        const d = await deliverOnce(b, admin);
        const t = times[i] as (typeof times)[number];
        t.seconds.push(d.seconds);
        if (d.copy !== null) t.copy.push(d.copy);
        t.peak = Math.max(t.peak, d.peakMb);
      }
    for (const [i, b] of built.entries()) {
      const t = times[i] as (typeof times)[number];
      const seconds = median(t.seconds);
      const copy = t.copy.length > 0 ? median(t.copy) : null;
      runs.push({
        months: b.months,
        rows: b.rows,
        seconds: Math.round(seconds * 100) / 100,
        copy_seconds: copy === null ? null : Math.round(copy * 1000) / 1000,
        ratio: copy === null ? null : Math.round((copy / seconds) * 10_000) / 10_000,
        peak_rss_mb: t.peak,
      });
      spread.push(
        `${Math.min(...t.seconds).toFixed(2)}–${Math.max(...t.seconds).toFixed(2)} s${t.copy.length > 0 ? `, copy ${Math.min(...t.copy).toFixed(3)}–${Math.max(...t.copy).toFixed(3)} s` : ""}`,
      );
    }
  } finally {
    server?.stop();
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ runs }, null, 1)}\n`);
    return;
  }
  const fmt = (v: number | null, d = 2) => (v === null ? "—" : v.toFixed(d));
  process.stdout.write(
    `\nMachine : ${machine()}, ${o.backend === "pg" ? "PostgreSQL" : "PGlite"} — échelle ${o.scale}, livraison du mois ${LAST_MONTH.slice(0, 7)} (agenda, MSS, DMP), médianes de ${o.repeat} livraisons alternées\n\n| mois d'historique | lignes du mois | livraison | psql \\copy | ratio | pic RSS | min–max |\n| ---: | ---: | ---: | ---: | ---: | ---: | --- |\n${runs
      .map(
        (r, i) =>
          `| ${r.months} | ${r.rows} | ${fmt(r.seconds)} s | ${r.copy_seconds === null ? "—" : `${fmt(r.copy_seconds, 3)} s`} | ${fmt(r.ratio, 4)} | ${r.peak_rss_mb} MB | ${spread[i]} |`,
      )
      .join("\n")}\n`,
  );
}
