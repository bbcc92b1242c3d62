/**
 * `npm run bench -- growth [--scales 0.1,0.3,1]` (issue 18 §4): how cost grows with the data, on
 * PostgreSQL. At each scale of the regional dataset of `bench -- report` (scale 1: 4 000 ESSMS),
 * the first 11 months are built as `bench -- delivery` builds its history, then timed:
 * - the import of the last month (its agenda, MSS and DMP exports: one monthly delivery);
 * - one report date for every ESSMS, and the 12-month history (median of 3 after a warm-up);
 * - the grappe page's figures, cold: one grappe at D, at its target date, at the next month, and
 *   its monthly history, as `GET /api/grappes/:id` computes them on a cache miss.
 * Prints Markdown rows, the least-squares slope of each against the number of fact rows and its
 * extrapolation to the whole country (≈ 36 500 ESSMS), and draws docs/growth.svg with Plot.
 */
import { createReadStream, createWriteStream, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as Plot from "@observablehq/plot";
import { JSDOM } from "jsdom";
import { type Db, openDb } from "../db/index.ts";
import { addMonths, targetDate } from "../domain/dates.ts";
import { nextMonthStart } from "../domain/worklist.ts";
import { ingestFile } from "../ingest/pipeline.ts";
import { computeReport, history } from "../sql/queries.ts";
import { freshPgDatabase, machine, pgUrl } from "./common.ts";
import { buildHistory } from "./delivery.ts";
import { generate, LAST_MONTH, median, REPORT_DATE, SECRET } from "./report.ts";

/** ESSMS in the country (FINESS, programme ESMS numérique's target population, order of size). */
const COUNTRY_ESSMS = 36_500;
const ROOT = join(import.meta.dirname, "..");

interface Point {
  scale: number;
  essms: number;
  rows: number;
  monthRows: number;
  importMonth: number;
  oneDate: number;
  history: number;
  grappePage: number;
}

/** Splits an export into its rows of the last month and the others (every date of a row is in its month). */
export async function split(
  path: string,
  month: string,
): Promise<{ before: string; last: string; lastRows: number }> {
  const before = path.replace(/\.csv$/, "_avant.csv");
  const last = path.replace(/\.csv$/, "_dernier_mois.csv");
  const a = createWriteStream(before);
  const b = createWriteStream(last);
  let header = true;
  let lastRows = 0;
  const tag = `;${month.slice(0, 8)}`;
  for await (const line of createInterface({ input: createReadStream(path) })) {
    if (header) {
      a.write(`${line}\n`);
      b.write(`${line}\n`);
      header = false;
    } else if (line.includes(tag)) {
      b.write(`${line}\n`);
      lastRows += 1;
    } else a.write(`${line}\n`);
  }
  await Promise.all([new Promise((r) => a.end(r)), new Promise((r) => b.end(r))]);
  return { before, last, lastRows };
}

async function load(db: Db, path: string): Promise<void> {
  const name = path.split("/").pop() as string;
  const r = await ingestFile(db, { path }, name, { secret: SECRET, importDay: "2025-10-15" });
  if (r.status !== "loaded") throw new Error(`${name} : ${r.message}`);
}

/** Median of 3 runs after a warm-up (s). */
const medianSeconds = async (fn: () => Promise<unknown>) => (await median(fn)) / 1000;

async function measure(scale: number, admin: string): Promise<Point> {
  const dir = join(ROOT, "data", "bench", `region-${scale}`);
  process.stderr.write(`Échelle ${scale} : génération…\n`);
  const ds = await generate(scale, dir);
  const exp = (k: string) => join(dir, "exports", `${k}_region.csv`);
  const parts = await Promise.all(["agenda", "mss", "dmp"].map((k) => split(exp(k), LAST_MONTH)));
  const db = await openDb({ databaseUrl: await freshPgDatabase(admin, "bench_growth") });
  try {
    // The first 11 months as `bench -- delivery` builds them (issue 36): bulk-loaded, then
    // usager_month refreshed once, analysed and vacuumed (before issue 36, imported file by file).
    process.stderr.write(`Échelle ${scale} : historique des 11 premiers mois…\n`);
    await buildHistory(db, ds, {
      agenda: parts[0]?.before,
      mss: parts[1]?.before,
      dmp: parts[2]?.before,
    } as Record<"agenda" | "mss" | "dmp", string>);
    await db.query("analyze");
    const t = performance.now();
    for (const p of parts) await load(db, p.last);
    const importMonth = (performance.now() - t) / 1000;
    await db.query("analyze");
    const D = REPORT_DATE;
    const oneDate = await medianSeconds(() => computeReport(db, D));
    const hist = await medianSeconds(() => history(db, addMonths(D, -11), D));
    const g = "G0000";
    const target = targetDate("2025-06-01");
    const grappePage = await medianSeconds(() =>
      Promise.all([
        computeReport(db, D, g),
        computeReport(db, target, g),
        computeReport(db, nextMonthStart(D), g),
        history(db, addMonths(D, -11), D, { grappes: g }),
      ]),
    );
    const [{ n }] = (await db.query<{ n: number }>(
      `select ((select count(*) from sejour) + (select count(*) from projet_personnalise)
        + (select count(*) from agenda_event) + (select count(*) from mss_message)
        + (select count(*) from dmp_document))::int as n`,
    )) as [{ n: number }];
    return {
      scale,
      essms: ds.essms,
      rows: n,
      monthRows: parts.reduce((s, p) => s + p.lastRows, 0),
      importMonth,
      oneDate,
      history: hist,
      grappePage,
    };
  } finally {
    await db.close();
  }
}

/** Least squares y = a + b·x: slope b, intercept a, R². */
function leastSquares(xs: number[], ys: number[]): { a: number; b: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    sxx += ((xs[i] as number) - mx) ** 2;
    syy += ((ys[i] as number) - my) ** 2;
  }
  const b = sxy / sxx;
  return { a: my - b * mx, b, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

const MEASURES = [
  { key: "importMonth", label: "import d'un mois de la région", x: "monthRows" },
  { key: "oneDate", label: "rapport à une date (toutes les ESSMS)", x: "rows" },
  { key: "history", label: "historique 12 mois (toutes les ESSMS)", x: "rows" },
  { key: "grappePage", label: "page d'une grappe, à froid", x: "rows" },
] as const;

const fr = (v: number) => v.toLocaleString("fr-FR", { maximumSignificantDigits: 3 });

function svg(points: Point[]): string {
  const { document } = new JSDOM("").window;
  const data = points.flatMap((p) =>
    MEASURES.map((m) => ({ mesure: m.label, lignes: p.rows / 1e6, secondes: p[m.key] })),
  );
  // Each line named at its end and drawn with its own symbol: colour is never the only cue.
  const plot = Plot.plot({
    document,
    width: 900,
    height: 440,
    marginRight: 290,
    style: { fontFamily: "Marianne, arial, sans-serif", fontSize: "12px" },
    x: { label: "lignes de faits en base (millions)", grid: true, tickFormat: fr },
    y: { label: "secondes (échelle logarithmique)", grid: true, type: "log", tickFormat: fr },
    marks: [
      Plot.line(data, { x: "lignes", y: "secondes", stroke: "mesure" }),
      Plot.dot(data, { x: "lignes", y: "secondes", stroke: "mesure", symbol: "mesure", r: 4 }),
      Plot.text(
        data,
        Plot.selectLast({
          x: "lignes",
          y: "secondes",
          z: "mesure",
          text: "mesure",
          dx: 8,
          textAnchor: "start",
        }),
      ),
    ],
  }) as SVGSVGElement;
  plot.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  plot.setAttribute("role", "img");
  plot.setAttribute("aria-label", "Temps de calcul selon le volume de données, PostgreSQL");
  return plot.outerHTML;
}

export async function benchGrowth(scales: number[]): Promise<void> {
  const server = await pgUrl();
  const points: Point[] = [];
  try {
    for (const s of scales) points.push(await measure(s, server.url));
  } finally {
    server.stop();
  }
  const rows = points.map(
    (p) =>
      `| ${p.scale} | ${p.essms} | ${(p.rows / 1e6).toFixed(2)} M | ${(p.monthRows / 1e6).toFixed(2)} M : ${p.importMonth.toFixed(1)} s | ${p.oneDate.toFixed(2)} s | ${p.history.toFixed(2)} s | ${p.grappePage.toFixed(3)} s |`,
  );
  const countryScale = COUNTRY_ESSMS / 4000;
  const slopes = MEASURES.map((m) => {
    const xs = points.map((p) => p[m.x] / 1e6);
    const ys = points.map((p) => p[m.key]);
    const f = leastSquares(xs, ys);
    const last = points[points.length - 1] as Point;
    const countryX = ((last[m.x] / 1e6) * countryScale) / last.scale;
    return `| ${m.label} | ${f.b.toFixed(3)} s par million de lignes | ${f.a.toFixed(2)} s | ${f.r2.toFixed(3)} | ${(f.a + f.b * countryX).toFixed(1)} s |`;
  });
  writeFileSync(join(ROOT, "docs", "growth.svg"), svg(points));
  process.stdout.write(
    `\nMachine : ${machine()}, PostgreSQL — D = ${REPORT_DATE}\n\n| échelle | ESSMS | lignes de faits | import du dernier mois (lignes : temps) | une date | historique 12 mois | page grappe à froid |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n${rows.join("\n")}\n\n| mesure | pente | ordonnée à l'origine | R² | pays entier (${COUNTRY_ESSMS} ESSMS, extrapolé) |\n| --- | ---: | ---: | ---: | ---: |\n${slopes.join("\n")}\n\nFigure : docs/growth.svg\n`,
  );
}
