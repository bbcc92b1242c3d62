/**
 * What the ingest line (pipeline.ts) is asked and what it answers: its options, its result per
 * file, and the ends that cut a file short. A leaf: every step imports it, it imports no step.
 */
import type { Tx } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";
import type { IndicatorId } from "../domain/indicators.ts";
import type { IngestWarning } from "../domain/ingest-warnings.ts";
import type { Chunk, FinessSpan, ReadPlan, ReadReports } from "./chunks.ts";
import type { ContentLimits, Encoding } from "./content.ts";
import type { CsvSource } from "./csv.ts";
import type { DossierWatch } from "./dossier-watch.ts";
import type { RowError } from "./fields.ts";
import { KINDS, type Kind, type MergeMode } from "./kinds.ts";
import type { Profile } from "./profile.ts";

export interface IngestFileResult {
  file: string;
  kind: Kind | null;
  /**
   * `skipped`: the same content was already imported (or an earlier file of the same run holds
   * it); `unread`: a file of a folder that the product does not read (cli.md)
   */
  status: "loaded" | "skipped" | "refused" | "unread";
  rows: number;
  loaded: number;
  rejected: number;
  errors: RowError[];
  errors_truncated?: boolean;
  message?: string;
  import_id?: number;
  sha256?: string;
  /** rows set aside: their FINESS was already loaded from this very content */
  already_loaded?: number;
  /** a dry run (cli.md `--dry-run`): nothing was stored */
  dry_run?: true;
  /** what the import would change (a dry run that would load) */
  changes?: DryRunChanges;
  /** what the summary warns about (cli.md `warnings`: kind, count, lines), the file loaded all the same */
  warnings?: IngestWarning[];
  /** the required columns by which the file's kind was told, when neither its name nor an option told it (exports.md §1) */
  kind_from_header?: string[];
}

/** What a dry run reports beside the import's own result (dry-run.ts). */
export interface DryRunChanges {
  /** dossiers the file would add: usagers gaining their first séjour (only a dossiers file adds any) */
  new_dossiers: number;
  /** séjours the file would add */
  new_sejours: number;
  /** séjours that would gain an exit date */
  new_exits: number;
  /** rows that would add a fact, and rows that would replace an earlier one (same key) */
  new_rows: number;
  replacing_rows: number;
  /** facts by status, before → after (kinds with a status) */
  statuses: { statut: string; before: number; after: number }[];
  /** each ESSMS' indicators before → after, today and at its grappe's target date */
  effect: {
    date: Day;
    finess: string;
    indicators: Record<
      IndicatorId,
      { before: number | null; after: number | null; met_before: boolean; met_after: boolean }
    >;
  }[];
}

/** A result before its status: the file, its kind, nothing read yet. */
export type ResultBase = Omit<IngestFileResult, "status">;

export function baseResult(file: string, kind: Kind | null): ResultBase {
  return { file, kind, rows: 0, loaded: 0, rejected: 0, errors: [] as RowError[] };
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
  /** the import's number, reserved (and recorded as running) when an upload was accepted (202) */
  importId?: number;
  onProgress?: (rows: number) => void;
  /** rows per staged chunk (default CHUNK_ROWS); small values let tests cross chunk boundaries */
  chunkRows?: number;
  /** distinct usagers numbered before the numbering restarts (default MAX_FILE_USAGERS); for tests */
  maxFileUsagers?: number;
  /** read the file in a worker thread (default: on PGlite, files of 16 MB or more) */
  readInWorker?: boolean;
  /** rejections kept in memory before the rest go to a temporary file (default 10 000); for tests */
  rejectionsInMemory?: number;
  /**
   * called once each chunk is merged, in the file's open transaction (the importer waits for it):
   * how the chunk was merged (plain insert or upsert, sorted or not); for tests
   */
  onChunkMerged?: (mode: Readonly<MergeMode>) => void | Promise<void>;
  /**
   * read, validate and merge exactly as an import, then roll back: nothing is stored (no import
   * record either); the result says what the import would change (ingest/dry-run.ts)
   */
  dryRun?: boolean;
  /**
   * with `dryRun`, inside a caller's transaction (a TDDUI Bundle's check, whose kinds must see
   * one another): the merged rows are kept for the caller, which rolls everything back at the
   * end; called with the FINESS the rows were for, instead of rolling back here
   */
  checkInside?: (finess: string[]) => void;
  /**
   * the audit entry written with the import's record, in the same transaction (issue 29 §6): who
   * and which action; the entry adds the file, its status and counts. (A failure is audited apart.)
   */
  audit?: { actor: string; action: string; detail?: Record<string, unknown> };
  /**
   * aborts the import between two chunks (a server stopping): the transaction rolls back, the
   * import is recorded as failed and can be run again
   */
  signal?: AbortSignal;
  /** how far a file's content may go (decompressed): an upload's MAX_UPLOAD_MB (content.ts) */
  contentLimits?: ContentLimits;
  /**
   * contents met earlier in the same run (a folder, the inbox), by idempotency key → their file:
   * a dry run answers `skipped` for a content an earlier file of the run holds, as an import would
   */
  runContents?: Map<string, string>;
  /** warnings the reader found for this content (a Bundle without update trace), put in its result */
  warnings?: IngestWarning[];
  /** read a JSON file (TDDUI Bundle, FHIR NDJSON) in a worker thread: the API and the inbox */
  jsonInWorker?: boolean;
  /**
   * the run this file belongs to (a folder, the inbox's pass): its rows without a dossier are
   * counted at the run's end (ingest/dossier-watch.ts); without one, the file is a run of its own
   */
  dossierWatch?: DossierWatch;
}

export type FileSource = { path: string } | { buffer: Buffer };

/**
 * One content for the line: its rows, their kind, and its idempotency key (the file's sha256, or
 * the key its reader gives it: a TDDUI Bundle's kind, ADR 0014).
 */
export interface Content {
  label: string;
  kind: Kind;
  sha256: string;
  /** the rows as a CSV source whose header names their columns */
  open: () => Promise<CsvSource>;
  /** the CSV file they are read from (then maybe by a worker thread); null: another reader's rows */
  csv: CsvFile | null;
  /** rows read elsewhere: a FHIR source's by the worker that holds its index (ADR 0023) */
  rowsElsewhere?: ((plan: ReadPlan, reports: ReadReports) => AsyncGenerator<Chunk>) | undefined;
}

/** What the probe knows of a CSV file (probe.ts). */
export interface CsvFile {
  src: FileSource;
  encoding: Encoding;
  bytes: number;
}

export const MAX_ERRORS_IN_RESULT = 1000;

/**
 * Why a file's kind could not be told (exports.md §1), in the words of where it was sent: the
 * command line names its `--kind` option, the web never mentions the command line.
 */
export function kindsMessage(source: IngestOptions["source"] = "cli", tie: readonly Kind[] = []): string {
  const accepted = `le nom doit commencer par ${KINDS.join(", ")} ou pp, suivi de _, - ou ., ou l'en-tête porter toutes les colonnes obligatoires d'un seul type`;
  const how =
    source === "api"
      ? "choisissez le type dans la liste"
      : source === "worker"
        ? "renommez le fichier"
        : "utilisez --kind";
  const ambiguous = tie.length > 1 ? ` (l'en-tête convient autant à ${tie.join(" qu'à ")})` : "";
  return `type de fichier inconnu${ambiguous} : ${accepted} ; sinon, ${how}`;
}

/**
 * How the line ends, chosen once per file: an import commits and records its result (record.ts
 * `importEnd`); a dry run measures what it did and rolls it back (dry-run.ts `dryRunEnd`). The
 * steps before the end are the same for both.
 */
export interface LineEnd {
  /** runs the file's one transaction: committed (an import), or rolled back once measured (a dry run) */
  transaction(fn: (tx: Tx) => Promise<IngestFileResult>): Promise<IngestFileResult>;
  /** the import's number, taken first so that fact rows point at their import (a dry run: 0) */
  reserveId(tx: Tx): Promise<number>;
  /** the last step, in the transaction once the file is merged and refreshed */
  finish(
    tx: Tx,
    result: IngestFileResult,
    importId: number,
    perFiness: ReadonlyMap<string, FinessSpan>,
  ): Promise<IngestFileResult>;
}

// The ends that cut a file short. Thrown inside the file's transaction, they roll it back; the
// line (pipeline.ts) turns them into the file's answer (record.ts `recordCutShort`).

/** The file is refused whole, with its French reason; nothing of it is loaded. */
export class RefuseFile extends Error {}
/** Nothing of the file is left to load: every valid row's FINESS was loaded from this content. */
export class SkipFile extends Error {}
/** Too many rejected rows (verdict.ts): refused, and recorded with its rejections apart. */
export class RefusedWithRows extends Error {
  constructor(readonly result: IngestFileResult) {
    super(result.message);
  }
}
/** An import of the same content committed while this one was being planned: planned again. */
export class PriorChanged extends Error {}
