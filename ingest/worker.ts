/**
 * Scheduled ingest (exports.md §1–4, issue "workers"): scans INBOX_DIR for `*.csv` (and `*.json`
 * TDDUI Bundles, ADR 0014; `*.ndjson` FHIR bulk files, one folder's together; each of them `.gz`,
 * ADR 0023), imports each new file, then moves it to `processed/` or `refused/` (a French
 * `.erreur.txt` beside a refused file, a `.rejets.txt` beside a loaded file with rejected rows or
 * warnings). JSON is read in worker threads: a hostile Bundle never holds the server that shares
 * this process. Each run is recorded in `worker_run`. A session-level advisory lock lets only one
 * worker scan at a time; the importer's own per-content lock (sha256) still guarantees a file is
 * never imported twice at once.
 */

import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, extname, join, relative, sep } from "node:path";
import { sql } from "kysely";
import cron from "node-cron";
import type { Db } from "../db/index.ts";
import { DomainError, isDomainError } from "../domain/errors.ts";
import { warningMessage } from "../domain/ingest-warnings.ts";
import { DossierWatch, endRun } from "./dossier-watch.ts";
import { type RowError, rowErrorPlace } from "./fields.ts";
import {
  ingestItem,
  isReadName,
  type PlannedFile,
  type PlannedItem,
  planItems,
  UNREAD_MESSAGE,
} from "./ingest.ts";
import type { Profile } from "./profile.ts";
import type { IngestFileResult } from "./result.ts";
import { combineResults } from "./tddui.ts";

/** Advisory lock key of the inbox scan (any constant unique to this use). */
export const WORKER_LOCK_KEY = 7_402_318;
export const PROCESSED = "processed";
export const REFUSED = "refused";
/** A file modified more recently than this may still be being written: left for the next run. */
export const DEFAULT_MIN_AGE_MS = 5_000;

export interface WorkerOptions {
  inboxDir: string;
  secret: string;
  profile?: Profile | null;
  minAgeMs?: number;
  now?: () => number;
}

export interface WorkerFile {
  file: string;
  status: IngestFileResult["status"] | "failed" | "pending";
  moved_to: string | null;
  rows: number;
  loaded: number;
  rejected: number;
  message?: string;
}

export interface WorkerRun {
  run_id: number | null;
  outcome: "ok" | "partial" | "failed" | "busy";
  files: WorkerFile[];
  message?: string;
}

/**
 * Every file of the inbox in relative-path byte order, outside processed/ and refused/, each
 * with whether it is read (`ingest.ts` `isReadName`): the others are reported, never skipped silently.
 */
export function inboxEntries(inbox: string): { path: string; read: boolean }[] {
  const out: { path: string; read: boolean }[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (d === inbox && (e.name === PROCESSED || e.name === REFUSED)) continue;
        visit(p);
      } else if (e.isFile()) out.push({ path: p, read: isReadName(e.name) });
    }
  };
  visit(inbox);
  const rel = (p: string) => Buffer.from(relative(inbox, p).split(sep).join("/"));
  return out.sort((a, b) => Buffer.compare(rel(a.path), rel(b.path)));
}

/** The inbox's items in order: each file, a folder's NDJSON files together, the others unread. */
export function inboxItems(inbox: string): PlannedItem[] {
  const rel = (p: string) => relative(inbox, p).split(sep).join("/");
  return planItems(
    inboxEntries(inbox).map((e) =>
      e.read
        ? { path: e.path, label: rel(e.path) }
        : { path: e.path, label: rel(e.path), unread: UNREAD_MESSAGE },
    ),
  );
}

/** CSV and JSON files of the inbox in relative-path byte order, outside processed/ and refused/. */
export function inboxFiles(inbox: string): string[] {
  return inboxEntries(inbox)
    .filter((e) => e.read)
    .map((e) => e.path);
}

/** A free destination path: `name.csv`, else `name.1.csv`, `name.2.csv`… (never overwrites). */
function freePath(dir: string, name: string): string {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  let candidate = join(dir, name);
  for (let i = 1; existsSync(candidate); i++) candidate = join(dir, `${stem}.${i}${ext}`);
  return candidate;
}

function errorLines(errors: readonly RowError[], truncated: boolean | undefined): string[] {
  const lines = errors.map((e) => `${rowErrorPlace(e)} : ${e.message}`);
  if (truncated) lines.push("… liste tronquée : voir le détail de l'import dans l'application");
  return lines;
}

function explain(r: IngestFileResult, at: Date): string {
  const head = [
    `Fichier : ${r.file}`,
    `Date du traitement : ${at.toISOString()}`,
    r.status === "refused"
      ? `Fichier REFUSÉ, aucune ligne chargée : ${r.message ?? "motif non précisé"}`
      : `Fichier chargé : ${r.loaded} ligne(s) chargée(s) sur ${r.rows}, ${r.rejected} rejetée(s)`,
    ...(r.warnings ?? []).map((w) => `Avertissement : ${warningMessage(w)}`),
  ];
  if (r.sha256) head.push(`Empreinte SHA-256 : ${r.sha256}`);
  const lines = errorLines(r.errors, r.errors_truncated);
  return `${[...head, ...(lines.length ? ["", "Lignes en erreur :", ...lines] : [])].join("\n")}\n`;
}

/** Where a moved file's note goes: beside it, `NAME.rejets.txt` or `NAME.erreur.txt`. */
function notePath(dest: string, noteExt: string): string {
  return `${dest.slice(0, dest.length - extname(dest).length)}${noteExt}`;
}

function moveWithNote(path: string, dir: string, note: string | null, noteExt: string): string {
  mkdirSync(dir, { recursive: true });
  const dest = freePath(dir, basename(path));
  renameSync(path, dest);
  if (note !== null) writeFileSync(notePath(dest, noteExt), note);
  return dest;
}

/** The files an item of the inbox moves: itself, or a folder's NDJSON files together. */
function filesOf(item: PlannedItem): PlannedFile[] {
  return "ndjson" in item ? item.ndjson : [item];
}

/** An item of the pass once imported and moved: its parts' results, and where its note goes. */
interface Processed {
  file: WorkerFile;
  parts: IngestFileResult[];
  at: Date;
  /** the note beside the moved file (written or not yet) */
  note: string;
}

async function processFile(
  db: Db,
  item: PlannedItem,
  opts: WorkerOptions,
  watch: DossierWatch,
): Promise<WorkerFile | Processed> {
  const label = item.label;
  let parts: IngestFileResult[];
  try {
    parts = await ingestItem(db, item, {
      secret: opts.secret,
      profile: opts.profile ?? null,
      source: "worker",
      // JSON is read by worker threads: the server in this process keeps answering.
      jsonInWorker: true,
      // One pass is one run: rows without a dossier are counted once every file is in.
      dossierWatch: watch,
    });
  } catch (e) {
    // Database or disk trouble: the file stays in the inbox for the next run.
    return {
      file: label,
      status: "failed",
      moved_to: null,
      rows: 0,
      loaded: 0,
      rejected: 0,
      // Our French message, or the kind of failure only: a system's own words may quote data.
      message: `échec technique, fichier laissé dans la boîte de dépôt : ${isDomainError(e) ? e.message : "détail dans le journal du serveur"}`,
    };
  }
  const r = combineResults(label, parts);
  const now = new Date(opts.now?.() ?? Date.now());
  const refused = r.status === "refused";
  const note = refused || r.rejected > 0 || r.warnings?.length ? explain(r, now) : null;
  const dir = join(opts.inboxDir, refused ? REFUSED : PROCESSED);
  const noteExt = refused ? ".erreur.txt" : ".rejets.txt";
  const moved = filesOf(item).map((f, i) => moveWithNote(f.path, dir, i === 0 ? note : null, noteExt));
  const file: WorkerFile = {
    file: label,
    status: r.status,
    moved_to: relative(opts.inboxDir, moved[0] as string)
      .split(sep)
      .join("/"),
    rows: r.rows,
    loaded: r.loaded,
    rejected: r.rejected,
    ...withMessage(r),
  };
  return { file, parts, at: now, note: notePath(moved[0] as string, noteExt) };
}

/** A file's message in the pass's record: its own, then its warnings'. */
function withMessage(r: IngestFileResult): { message?: string } {
  const warned = (r.warnings ?? []).map(warningMessage);
  return r.message || warned.length ? { message: [r.message, ...warned].filter(Boolean).join(" ; ") } : {};
}

/**
 * The pass's end: the rows without a dossier of its files counted (ingest/dossier-watch.ts), each
 * file concerned getting its warnings in its record, its note (`NAME.rejets.txt`, written again
 * whole) and the pass's summary.
 */
async function endPass(db: Db, watch: DossierWatch, processed: readonly Processed[]): Promise<void> {
  const flat = processed.flatMap((p) => p.parts);
  const ended = await endRun(db, watch, flat);
  let at = 0;
  for (const p of processed) {
    const parts = ended.slice(at, at + p.parts.length);
    const before = p.parts;
    at += before.length;
    if (parts.every((x, i) => x === before[i])) continue;
    const r = combineResults(p.file.file, parts);
    writeFileSync(p.note, explain(r, p.at));
    Object.assign(p.file, withMessage(r));
  }
}

/** One scan of the inbox. Returns `busy` without touching anything when another worker scans. */
export async function runInboxOnce(db: Db, opts: WorkerOptions): Promise<WorkerRun> {
  mkdirSync(opts.inboxDir, { recursive: true });
  const ran = await db.withAdvisoryLock(WORKER_LOCK_KEY, async () => {
    const run = await db.kysely
      .insertInto("worker_run")
      .defaultValues()
      .returning("run_id")
      .executeTakeFirst();
    const runId = run?.run_id ?? null;
    const files: WorkerFile[] = [];
    const processed: Processed[] = [];
    const watch = new DossierWatch(opts.secret);
    const minAge = opts.minAgeMs ?? DEFAULT_MIN_AGE_MS;
    const now = opts.now?.() ?? Date.now();
    let message: string | undefined;
    try {
      for (const item of inboxItems(opts.inboxDir)) {
        if (!("ndjson" in item) && item.unread) {
          // Left where it is (it may be the operator's note), but said at every run.
          files.push({
            file: item.label,
            status: "unread",
            moved_to: null,
            rows: 0,
            loaded: 0,
            rejected: 0,
            message: item.unread,
          });
          continue;
        }
        if (filesOf(item).some((f) => now - statSync(f.path).mtimeMs < minAge)) {
          files.push({
            file: item.label,
            status: "pending",
            moved_to: null,
            rows: 0,
            loaded: 0,
            rejected: 0,
            message:
              "fichier en cours de dépôt (modifié il y a moins de quelques secondes) : traité au prochain passage",
          });
          continue;
        }
        const done = await processFile(db, item, opts, watch);
        if ("parts" in done) processed.push(done);
        files.push("parts" in done ? done.file : done);
      }
      await endPass(db, watch, processed);
    } catch (e) {
      // Stored in worker_run and shown: our French message, or the system's error by its code.
      message = isDomainError(e)
        ? e.message
        : `échec technique (${(e as { code?: string }).code ?? "erreur"}) ; détail dans le journal du serveur`;
      process.stderr.write(
        `${JSON.stringify({ level: "error", message: "échec d'un passage de l'import planifié", error: String(e) })}\n`,
      );
    }
    const n = (s: WorkerFile["status"]) => files.filter((f) => f.status === s).length;
    const outcome: WorkerRun["outcome"] =
      message !== undefined ? "failed" : n("failed") > 0 || n("refused") > 0 ? "partial" : "ok";
    if (runId !== null)
      await db.kysely
        .updateTable("worker_run")
        .set({
          finished_at: sql<Date>`now()`,
          files_seen: files.length,
          files_loaded: n("loaded"),
          files_refused: n("refused"),
          files_skipped: n("skipped"),
          outcome,
          message: message ?? summarize(files),
        })
        .where("run_id", "=", runId)
        .execute();
    return { run_id: runId, outcome, files, ...(message ? { message } : {}) } satisfies WorkerRun;
  });
  return (
    ran ?? { run_id: null, outcome: "busy", files: [], message: "un autre import planifié est en cours" }
  );
}

function summarize(files: readonly WorkerFile[]): string {
  const failed = files.filter((f) => f.status === "failed" || f.status === "unread");
  return failed.length ? failed.map((f) => `${f.file} : ${f.message}`).join("\n") : "";
}

export interface ScheduledWorker {
  stop(): Promise<void>;
  nextRun(): Date | null;
}

/** Schedules `runInboxOnce` (Europe/Paris time, never two runs of this process at once). */
export function scheduleWorker(
  db: Db,
  expression: string,
  opts: WorkerOptions,
  log: (run: WorkerRun) => void,
): ScheduledWorker {
  if (!cron.validate(expression))
    throw new DomainError("validation", `INGEST_CRON invalide : « ${expression} »`);
  const task = cron.schedule(
    expression,
    async () => {
      try {
        log(await runInboxOnce(db, opts));
      } catch (e) {
        log({
          run_id: null,
          outcome: "failed",
          files: [],
          message: isDomainError(e) ? e.message : "échec technique ; détail dans le journal du serveur",
        });
      }
    },
    { timezone: "Europe/Paris", noOverlap: true, name: "import-planifie" },
  );
  return {
    async stop() {
      await task.destroy();
    },
    nextRun: () => task.getNextRun(),
  };
}
