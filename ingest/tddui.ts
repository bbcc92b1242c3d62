/**
 * TDDUI FHIR sources as input (exports.md §6, ADR 0014 and 0023): a Bundle (`*.json`) of the ANS
 * implementation guide « Médicosocial – Transfert de données DUI », or the NDJSON files of a FHIR
 * Bulk Data export (`Encounter.ndjson`, `1.Patient.ndjson`), gzip or not. Reading is in
 * fhir-read.ts (the bounded JSON reader, one entry at a time, only what is mapped) and the
 * mapping in fhir-rows.ts; here, the import: one import per kind the source holds, each exactly
 * as the equivalent CSV export (pipeline.ts `ingestRecords`), and the dry run of all its kinds
 * together. For the API and the inbox, the source is read in worker threads (read.ts): its
 * parsing never holds the thread that answers requests.
 */
import { createHash } from "node:crypto";
import { type Db, savepointDb } from "../db/index.ts";
import { isDomainError } from "../domain/errors.ts";
import type { IngestWarning } from "../domain/ingest-warnings.ts";
import { inRun } from "./dossier-watch.ts";
import { dryRunChanges, measureState, type StateOfEssms } from "./dry-run.ts";
import { BundleRefused } from "./fhir-read.ts";
import {
  bundleWarnings,
  type FhirInput,
  type FhirSummary,
  TDDUI_KINDS,
  type TdduiKind,
} from "./fhir-rows.ts";
import { type FhirReading, openFhirReading } from "./fhir-session.ts";
import type { RowError } from "./fields.ts";
import { ingestRecords } from "./pipeline.ts";
import { refusedFile } from "./record.ts";
import {
  type DryRunChanges,
  type FileSource,
  type IngestFileResult,
  type IngestOptions,
  RefuseFile,
} from "./result.ts";

export { BundleRefused, bundleEntries, MAX_VALUE_BYTES, ndjsonEntries } from "./fhir-read.ts";
export {
  CAREPLAN_STATUS,
  dossierNumber,
  EVENT_STATUS,
  roleOf,
  TDDUI_KINDS,
  TDDUI_PROFILE_BASE,
  type TdduiKind,
} from "./fhir-rows.ts";

/** `*.json` (or `*.json.gz`): a TDDUI Bundle. */
export function isJsonName(name: string): boolean {
  return /\.json(\.gz)?$/i.test(name);
}

/** `*.ndjson` (or `*.ndjson.gz`): a FHIR Bulk Data file, one resource per line. */
export function isNdjsonName(name: string): boolean {
  return /\.ndjson(\.gz)?$/i.test(name);
}

/** Imports a TDDUI Bundle file (`ingestFhir`). */
export function ingestBundle(
  db: Db,
  src: FileSource,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  return ingestFhir(db, { form: "bundle", files: [{ src, label }] }, label, opts);
}

/**
 * Imports a TDDUI source: one import per kind it holds (dossiers, dossier_maj, projets
 * personnalisés, agenda, in that order), each exactly as the equivalent CSV export, its
 * idempotency key the content's hash and the kind. A source that is not read (not a TDDUI
 * Bundle, beyond a bound, not JSON) is refused whole before anything is loaded. An upload's
 * reserved record (`importId`) is the first kind's; the summary's warnings (no update trace) go
 * with the first kind's result.
 */
export async function ingestFhir(
  db: Db,
  input: FhirInput,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult[]> {
  // A source imported alone is a run of its own (its events without a dossier counted at its end).
  if (!opts.dossierWatch) return inRun(db, opts, (o) => ingestFhir(db, input, label, o));
  const base = { file: label, kind: null, rows: 0, loaded: 0, rejected: 0, errors: [] as RowError[] };
  let read: FhirReading;
  try {
    read = await openFhirReading(input, opts);
  } catch (e) {
    if (e instanceof BundleRefused || e instanceof RefuseFile || isDomainError(e, "file_refused"))
      return [await refusedFile(db, base, undefined, (e as Error).message, opts)];
    throw e;
  }
  try {
    const warnings = bundleWarnings(read.summary);
    if (opts.dryRun) return await checkBundle(db, read, label, opts, warnings);
    const results: IngestFileResult[] = [];
    let importId = opts.importId;
    const { importId: _reserved, warnings: _none, ...rest } = opts;
    for (const kind of kindsOf(read.summary)) {
      const first = results.length === 0;
      const r = await ingestKind(db, read, kind, label, {
        ...rest,
        ...(importId === undefined ? {} : { importId }),
        ...(first && warnings.length > 0 ? { warnings } : {}),
      });
      importId = undefined;
      results.push(r);
    }
    return results;
  } finally {
    await read.close();
  }
}

function kindsOf(summary: FhirSummary): TdduiKind[] {
  return TDDUI_KINDS.filter((k) => summary.counts[k] > 0);
}

/** One kind of the source through the line (its rows read where the source is read). */
function ingestKind(
  db: Db,
  read: FhirReading,
  kind: TdduiKind,
  label: string,
  opts: IngestOptions,
): Promise<IngestFileResult> {
  return ingestRecords(
    db,
    label,
    kind,
    kindKey(kind, read.summary),
    () => read.open(kind),
    opts,
    read.elsewhere(kind),
  );
}

const kindKey = (kind: TdduiKind, summary: FhirSummary) =>
  createHash("sha256").update(`tddui:${kind}:${summary.sha256}`).digest("hex");

class BundleChecked extends Error {}

/**
 * A Bundle's check (dry run, issue 16 §2): its kinds imported one after the other in one
 * transaction, each seeing the rows of the ones before it (the projets personnalisés see the
 * Bundle's dossiers), then all rolled back. Each kind's result says what the whole Bundle would
 * change in its table, and the effect on the indicators of its ESSMS (the same for every kind:
 * measured once all kinds are in).
 */
async function checkBundle(
  db: Db,
  read: FhirReading,
  label: string,
  opts: IngestOptions,
  warnings: IngestWarning[],
): Promise<IngestFileResult[]> {
  const kinds = kindsOf(read.summary);
  const finessOf = new Map<TdduiKind, string[]>();
  const parts: IngestFileResult[] = [];
  const after = new Map<TdduiKind, StateOfEssms>();
  const { importId: _reserved, warnings: _none, ...rest } = opts;
  try {
    await db.transaction(async (tx) => {
      const inner = savepointDb(db, tx, ["stage", "file_usager"]);
      for (const kind of kinds)
        parts.push(
          await ingestKind(inner, read, kind, label, {
            ...rest,
            dryRun: true,
            checkInside: (finess) => finessOf.set(kind, finess),
            ...(parts.length === 0 && warnings.length > 0 ? { warnings } : {}),
          }),
        );
      for (const [kind, finess] of finessOf) after.set(kind, await measureState(tx, kind, finess));
      throw new BundleChecked();
    });
  } catch (e) {
    if (!(e instanceof BundleChecked)) throw e;
  }
  // Rolled back: the database is as before; measure it again to tell the difference.
  const out: IngestFileResult[] = [];
  for (const [i, r] of parts.entries()) {
    const kind = kinds[i] as TdduiKind;
    const finess = finessOf.get(kind);
    const state = after.get(kind);
    out.push(
      finess && state
        ? {
            ...r,
            dry_run: true,
            changes: dryRunChanges(await measureState(db, kind, finess), state, r.loaded),
          }
        : { ...r, dry_run: true },
    );
  }
  return out;
}

/**
 * One result for a whole Bundle (the inbox's move, an upload's dry run): rows, loads and
 * rejections added up; loaded when any kind loaded, else refused when any was, else skipped.
 */
export function combineResults(label: string, parts: readonly IngestFileResult[]): IngestFileResult {
  const first = parts[0];
  if (parts.length === 1 && first) return first;
  const status = parts.some((p) => p.status === "loaded")
    ? "loaded"
    : parts.some((p) => p.status === "refused")
      ? "refused"
      : "skipped";
  const messages = parts.filter((p) => p.message).map((p) => `${p.kind ?? "?"} : ${p.message}`);
  return {
    file: label,
    kind: first?.kind ?? null,
    status,
    rows: parts.reduce((n, p) => n + p.rows, 0),
    loaded: parts.reduce((n, p) => n + p.loaded, 0),
    rejected: parts.reduce((n, p) => n + p.rejected, 0),
    errors: parts.flatMap((p) => p.errors),
    ...(parts.some((p) => p.errors_truncated) ? { errors_truncated: true } : {}),
    ...(messages.length > 0 ? { message: messages.join(" ; ") } : {}),
    ...(first?.import_id !== undefined ? { import_id: first.import_id } : {}),
    ...(parts.some((p) => p.dry_run) ? { dry_run: true as const } : {}),
    ...(parts.some((p) => p.changes) ? { changes: combineChanges(parts) } : {}),
    ...(parts.some((p) => p.warnings?.length) ? { warnings: parts.flatMap((p) => p.warnings ?? []) } : {}),
  };
}

/**
 * What a Bundle's check says it would change, its kinds together (`checkBundle`): rows added and
 * replaced and statuses per kind's table added up; dossiers, séjours and exits, and the effect on
 * the indicators, measured once the whole Bundle was in (the same for every kind), taken once.
 */
function combineChanges(parts: readonly IngestFileResult[]): DryRunChanges {
  const all = parts.flatMap((p) => (p.changes ? [p.changes] : []));
  const effect = new Map<string, DryRunChanges["effect"][number]>();
  for (const c of all)
    for (const e of c.effect)
      if (!effect.has(`${e.date} ${e.finess}`)) effect.set(`${e.date} ${e.finess}`, e);
  return {
    new_dossiers: Math.max(0, ...all.map((c) => c.new_dossiers)),
    new_sejours: Math.max(0, ...all.map((c) => c.new_sejours)),
    new_exits: Math.max(0, ...all.map((c) => c.new_exits)),
    new_rows: all.reduce((n, c) => n + c.new_rows, 0),
    replacing_rows: all.reduce((n, c) => n + c.replacing_rows, 0),
    statuses: all.flatMap((c) => c.statuses),
    effect: [...effect.values()],
  };
}
