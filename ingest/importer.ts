/**
 * Imports one DUI export file (exports.md §1–2): validated row by row, pseudonymised, staged by
 * COPY into a temporary table and merged set-based, all in one transaction with its import
 * record; a file whose content was already loaded is skipped.
 */

import { Readable } from "node:stream";
import type { Db, Tx } from "../db/index.ts";
import { type Day, todayParis } from "../domain/dates.ts";
import {
  CsvFormatError,
  type Encoding,
  fileInput,
  mapColumns,
  openCsv,
  probeBuffer,
  probeFile,
} from "./csv.ts";
import { fieldContext, type RowError, validateRow } from "./fields.ts";
import { isKind, KIND_DEFS, KINDS, type Kind, kindFromFileName, type StageRow, sejourKey } from "./kinds.ts";
import { type Profile, profileRenames } from "./profile.ts";
import { knownFiness } from "./programme.ts";
import { pseudonymiser } from "./pseudonym.ts";

export interface IngestFileResult {
  file: string;
  kind: Kind | null;
  status: "loaded" | "skipped" | "refused";
  rows: number;
  loaded: number;
  rejected: number;
  errors: RowError[];
  errors_truncated?: boolean;
  message?: string;
  import_id?: number;
  sha256?: string;
}

export interface IngestOptions {
  secret: string;
  kind?: Kind | undefined;
  profile?: Profile | null;
  source?: "cli" | "api" | "worker";
  actor?: string | null;
  importDay?: Day;
  /** FINESS the sender may load (API uploads by a grappe's user); others are rejected rows */
  scopeFiness?: ReadonlySet<string>;
  onProgress?: (rows: number) => void;
}

export type FileSource = { path: string } | { buffer: Buffer };

/** Share of rejected rows above which a file is refused whole (a sign of a wrong profile). */
export const MAX_REJECTED_SHARE = 0.2;
export const MAX_ERRORS_IN_RESULT = 1000;
const CHUNK_CHARS = 1 << 20;

class RefuseFile extends Error {}

/** Phase timings on stderr for whoever measures (CIBLES_TIMINGS=1); silent otherwise. */
function timing(phase: string, since: number): void {
  if (process.env.CIBLES_TIMINGS === "1")
    process.stderr.write(`[import] ${phase} : ${Math.round(performance.now() - since)} ms\n`);
}

export function kindsMessage(): string {
  return `type de fichier inconnu : le nom doit commencer par ${KINDS.join(", ")} ou pp, suivi de _, - ou . (ou utilisez --kind)`;
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return "";
  const s = String(v);
  if (s === "") return '""';
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function ingestFile(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult> {
  const kind = opts.kind ?? kindFromFileName(label);
  const base = { file: label, kind, rows: 0, loaded: 0, rejected: 0, errors: [] as RowError[] };
  if (!kind || !isKind(kind)) return { ...base, kind: null, status: "refused", message: kindsMessage() };
  const probe = "path" in src ? await probeFile(src.path) : probeBuffer(src.buffer);
  if (probe.bytes === 0) return { ...base, status: "refused", message: "fichier vide", sha256: probe.sha256 };
  if (!probe.isText) {
    return {
      ...base,
      status: "refused",
      message: "le fichier n'est pas un fichier texte (CSV attendu)",
      sha256: probe.sha256,
    };
  }
  const already = await db.query<{ import_id: number }>(
    "select import_id from import where sha256 = $1 and status = 'loaded' limit 1",
    [probe.sha256],
  );
  if (already[0]) {
    return {
      ...base,
      status: "skipped",
      message: `contenu déjà importé (import n° ${already[0].import_id})`,
      import_id: already[0].import_id,
      sha256: probe.sha256,
    };
  }
  const input = "path" in src ? fileInput(src.path) : () => Readable.from([src.buffer]);
  const started = new Date();
  try {
    return await loadFile(db, input, probe.encoding, probe.sha256, label, kind, opts, started);
  } catch (e) {
    if (e instanceof RefuseFile) {
      return { ...base, status: "refused", message: e.message, sha256: probe.sha256 };
    }
    if (e instanceof SkipFile) {
      return { ...base, status: "skipped", message: e.message, import_id: e.importId, sha256: probe.sha256 };
    }
    if (e instanceof RefusedWithRows) {
      const importId = await recordImport(db, null, e.result, opts, started, null, [], e.rejections);
      return { ...e.result, import_id: importId };
    }
    await recordFailure(db, label, kind, probe.sha256, opts, started, e).catch(() => {});
    throw e;
  }
}

class SkipFile extends Error {
  constructor(
    message: string,
    readonly importId: number,
  ) {
    super(message);
  }
}
class RefusedWithRows extends Error {
  constructor(
    readonly result: IngestFileResult,
    readonly rejections: RowError[],
  ) {
    super(result.message);
  }
}

async function loadFile(
  db: Db,
  input: () => NodeJS.ReadableStream,
  encoding: Encoding,
  sha256: string,
  label: string,
  kind: Kind,
  opts: IngestOptions,
  started: Date,
): Promise<IngestFileResult> {
  const def = KIND_DEFS[kind];
  let source: Awaited<ReturnType<typeof openCsv>>;
  try {
    source = await openCsv(input, encoding);
  } catch (e) {
    throw new RefuseFile(e instanceof CsvFormatError ? e.message : String(e));
  }
  const { index, missing } = mapColumns(
    source.header,
    def.columns,
    def.required,
    profileRenames(opts.profile ?? null, kind),
  );
  if (missing.length > 0) throw new RefuseFile(`colonnes obligatoires manquantes : ${missing.join(", ")}`);
  const importDay = opts.importDay ?? todayParis();
  const fc = fieldContext(importDay, await knownFiness(db), opts.scopeFiness);
  const schema = def.schema(fc, opts.profile ?? null);
  const pseudo = pseudonymiser(opts.secret);
  const stageCols = def.stage.map((c) => c.name);
  const rejections: RowError[] = [];
  let rows = 0;
  let rejectedRows = 0;
  const perFiness = new Map<string, { n: number; min: Day | null; max: Day | null }>();

  return db.transaction(async (tx) => {
    // Two imports of the same content: the second waits here, then finds it loaded.
    if (db.backend === "pg") await tx.query("select pg_advisory_xact_lock(hashtext($1))", [sha256]);
    const done = await tx.query<{ import_id: number }>(
      "select import_id from import where sha256 = $1 and status = 'loaded' limit 1",
      [sha256],
    );
    if (done[0])
      throw new SkipFile(`contenu déjà importé (import n° ${done[0].import_id})`, done[0].import_id);
    // The import id is reserved first so that fact rows point at their import.
    const [reserved] = await tx.query<{ id: number }>("select nextval('import_import_id_seq')::int as id");
    const importId = (reserved as { id: number }).id;
    await tx.query(
      `create temp table stage (seq bigint not null, ${def.stage.map((c) => `${c.name} ${c.type}`).join(", ")}) on commit drop`,
    );
    const chunks = async function* (): AsyncGenerator<string> {
      let buf = "";
      try {
        for await (const rec of source.records) {
          rows += 1;
          if (opts.onProgress && rows % 100_000 === 0) opts.onProgress(rows);
          const r = validateRow(schema, def.columns, index, rec.fields, rec.line);
          if (!r.ok) {
            rejectedRows += 1;
            for (const err of r.errors) rejections.push(err);
            continue;
          }
          const row = r.value as Record<string, string | number | boolean | null>;
          const finess = row.finess as string;
          if (def.usagerColumn && row[def.usagerColumn] !== null) {
            row[def.usagerColumn] = pseudo(finess, row[def.usagerColumn] as string);
          }
          if (kind === "dossiers")
            row.sejour_key = sejourKey(row.sejour_id as string | null, row.date_entree as Day);
          const values: StageRow = stageCols.map((c) => row[c] ?? null);
          buf += `${rec.line},${values.map(csvCell).join(",")}\n`;
          const day = row[def.dateColumn] as Day | null;
          const f = perFiness.get(finess);
          if (!f) perFiness.set(finess, { n: 1, min: day, max: day });
          else {
            f.n += 1;
            if (day !== null) {
              if (f.min === null || day < f.min) f.min = day;
              if (f.max === null || day > f.max) f.max = day;
            }
          }
          if (buf.length >= CHUNK_CHARS) {
            yield buf;
            buf = "";
          }
        }
      } catch (e) {
        throw e instanceof CsvFormatError ? new RefuseFile(e.message) : e;
      }
      if (buf.length > 0) yield buf;
    };
    const tCopy = performance.now();
    await tx.copyCsv("stage", ["seq", ...stageCols], chunks());
    timing("lecture, validation et COPY", tCopy);
    if (rows === 0) throw new RefuseFile("aucune ligne de données");
    const refusedWhole = rejectedRows > rows * MAX_REJECTED_SHARE;
    const status = refusedWhole ? "refused" : "loaded";
    const message = refusedWhole
      ? `${rejectedRows} lignes rejetées sur ${rows} (plus de 20 %) : fichier refusé en entier, rien n'a été chargé. Vérifiez le profil éditeur ou le référentiel.`
      : null;
    const result: IngestFileResult = {
      file: label,
      kind,
      status,
      rows,
      loaded: refusedWhole ? 0 : rows - rejectedRows,
      rejected: rejectedRows,
      errors: rejections.slice(0, MAX_ERRORS_IN_RESULT),
      ...(rejections.length > MAX_ERRORS_IN_RESULT ? { errors_truncated: true } : {}),
      ...(message ? { message } : {}),
      sha256,
    };
    // Refused: the transaction rolls back; the refusal and its reasons are recorded apart.
    if (refusedWhole) throw new RefusedWithRows(result, rejections);
    if (result.loaded > 0) {
      const tMerge = performance.now();
      // The merge sorts the staged rows (distinct on key): in memory rather than on disk.
      if (db.backend === "pg") await tx.query("set local work_mem = '256MB'");
      for (const sql of def.merge) {
        const tStep = performance.now();
        await tx.query(sql, sql.includes("$1") ? [importId] : []);
        timing(`  ${sql.trim().split(/\s+/).slice(0, 3).join(" ")}`, tStep);
      }
      timing("fusion", tMerge);
    }
    await recordImport(db, tx, result, opts, started, importId, [...perFiness], rejections);
    return { ...result, import_id: importId };
  });
}

async function recordImport(
  db: Db,
  tx: Tx | null,
  r: IngestFileResult,
  opts: IngestOptions,
  started: Date,
  reserved: number | null,
  perFiness: [string, { n: number; min: Day | null; max: Day | null }][],
  rejections: RowError[],
): Promise<number> {
  const write = async (q: Tx) => {
    const dates = perFiness
      .flatMap(([, f]) => [f.min, f.max])
      .filter((d): d is Day => d !== null)
      .sort();
    const [row] = await q.query<{ import_id: number }>(
      `insert into import (import_id, file_name, kind, sha256, status, rows_total, rows_loaded, rows_rejected, message,
         date_min, date_max, source, imported_by, started_at, finished_at)
       values (coalesce($1::bigint, nextval('import_import_id_seq')), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now())
       returning import_id::int as import_id`,
      [
        reserved,
        r.file,
        r.kind,
        r.sha256,
        r.status,
        r.rows,
        r.loaded,
        r.rejected,
        r.message ?? null,
        dates[0] ?? null,
        dates[dates.length - 1] ?? null,
        opts.source ?? "cli",
        opts.actor ?? null,
        started.toISOString(),
      ],
    );
    const importId = (row as { import_id: number }).import_id;
    for (const [finess, f] of perFiness) {
      await q.query(
        "insert into import_finess (import_id, finess, rows_loaded, date_min, date_max) values ($1, $2, $3, $4, $5)",
        [importId, finess, f.n, f.min, f.max],
      );
    }
    if (rejections.length > 0) {
      // Line, column, reason: never the row's values (exports.md §2).
      const lines = rejections.map((e) => e.line);
      await q.query(
        `insert into import_rejection (import_id, line, column_name, message, finess)
         select $1, l, c, m, null from unnest($2::int[], $3::text[], $4::text[]) as t(l, c, m)`,
        [importId, lines, rejections.map((e) => e.column), rejections.map((e) => e.message)],
      );
    }
    return importId;
  };
  if (tx) return write(tx);
  return db.transaction(write);
}

async function recordFailure(
  db: Db,
  label: string,
  kind: Kind,
  sha256: string,
  opts: IngestOptions,
  started: Date,
  e: unknown,
): Promise<void> {
  await db.query(
    `insert into import (file_name, kind, sha256, status, message, source, imported_by, started_at, finished_at)
     values ($1, $2, $3, 'failed', $4, $5, $6, $7, now())`,
    [
      label,
      kind,
      sha256,
      `échec technique de l'import : ${(e as Error).message}`,
      opts.source ?? "cli",
      opts.actor ?? null,
      started.toISOString(),
    ],
  );
}
