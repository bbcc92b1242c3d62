/**
 * Programme data that is not a DUI export (exports.md §5): the referential of grappes and ESSMS,
 * adjustments as decided, declared file active. These files are all-or-nothing: one bad row
 * refuses the whole file, since a half-loaded referential or set of decisions misleads.
 */

import { z } from "zod";
import type { Db, Queryable } from "../db/index.ts";
import { addMonths, type Day, todayParis } from "../domain/dates.ts";
import { isDomainError } from "../domain/errors.ts";
import { INDICATOR_IDS } from "../domain/indicators.ts";
import { MAX_ADJUSTED_PERSONS, monthFirstRefusal, rejectionMessage } from "../domain/rejections.ts";
import { AMENAGEMENT_STATUT, resolver } from "../domain/vocabulary.ts";
import { audit } from "../sql/audit.ts";
import { CALENDAR_FIELDS, type GrappeCalendarRow, grappeCalendarRows } from "../sql/calendar.ts";
import {
  knownFiness,
  saveDeclaredFileActive,
  saveImportedAdjustment,
  saveReferential,
} from "../sql/programme.ts";
import { hasShiftedFields } from "./chunks.ts";
import { isDeadlock } from "./db-errors.ts";

/** Largest referential, adjustments or file active file: thousands of rows, not millions. */
export const MAX_PROGRAMME_FILE_BYTES = 20 * 1024 * 1024;

import { fileInput, mapColumns, openCsv, probeFile } from "./csv.ts";
import {
  decimal,
  type FieldContext,
  fieldContext,
  finess,
  flag01,
  nonNegativeInteger,
  oneOf,
  optionalDay,
  optionalFreeText,
  optionalText,
  type RowError,
  requiredDay,
  requiredText,
  status,
  validateRow,
} from "./fields.ts";

export interface ProgrammeResult {
  file: string;
  kind: "referentiel" | "amenagements" | "file_active";
  status: "loaded" | "refused";
  rows: number;
  loaded: number;
  rejected: number;
  errors: RowError[];
  message?: string;
  summary?: Record<string, number>;
}

const MAX_ERRORS_REPORTED = 200;

async function readAll<S extends z.ZodType>(
  path: string,
  columns: readonly string[],
  required: readonly string[],
  schema: S,
): Promise<
  { rows: { line: number; value: z.output<S> }[]; errors: RowError[]; count: number } | { refused: string }
> {
  let probe: Awaited<ReturnType<typeof probeFile>>;
  try {
    // Bounded before it is read whole (decompressed, for a `.csv.gz`).
    probe = await probeFile(path, { maxBytes: MAX_PROGRAMME_FILE_BYTES });
  } catch (e) {
    if (isDomainError(e, "file_refused")) return { refused: e.message };
    throw e;
  }
  if (probe.bytes === 0) return { refused: "fichier vide" };
  // Programme files are small (a referential, decisions): read whole, so bounded first.
  if (probe.bytes > MAX_PROGRAMME_FILE_BYTES)
    return { refused: `fichier trop volumineux (${MAX_PROGRAMME_FILE_BYTES / 1024 / 1024} Mo au plus)` };
  if (!probe.isText) return { refused: "le fichier n'est pas un fichier texte (CSV attendu)" };
  let source: Awaited<ReturnType<typeof openCsv>>;
  try {
    source = await openCsv(fileInput(path, { maxBytes: MAX_PROGRAMME_FILE_BYTES }), probe.encoding);
  } catch (e) {
    if (isDomainError(e, "file_refused")) return { refused: e.message };
    throw e;
  }
  const { index, missing } = mapColumns(source.header, columns, required);
  if (missing.length > 0) return { refused: `colonnes obligatoires manquantes : ${missing.join(", ")}` };
  const rows: { line: number; value: z.output<S> }[] = [];
  const errors: RowError[] = [];
  let count = 0;
  try {
    for await (const rec of source.records) {
      count += 1;
      if (hasShiftedFields(rec.fields, source.header.length)) {
        errors.push({
          line: rec.line,
          column: null,
          message: rejectionMessage("champs_en_trop"),
          reason: "champs_en_trop",
        });
        continue;
      }
      const r = validateRow(schema, columns, index, rec.fields, rec.line);
      if (r.ok) rows.push({ line: rec.line, value: r.value });
      else {
        // An English-locale tool's dates: the whole file is refused (exports.md §1).
        const monthFirst = r.errors.find((e) => e.reason === "date_mois_en_premier");
        if (monthFirst) return { refused: monthFirstRefusal(monthFirst.line, monthFirst.column) };
        errors.push(...r.errors);
      }
    }
  } catch (e) {
    if (isDomainError(e, "file_refused")) return { refused: e.message };
    throw e;
  }
  if (count === 0) return { refused: "aucune ligne de données" };
  return { rows, errors, count };
}

function refused(
  file: string,
  kind: ProgrammeResult["kind"],
  message: string,
  rows = 0,
  errors: RowError[] = [],
): ProgrammeResult {
  const rejectedLines = new Set(errors.map((e) => e.line)).size;
  return {
    file,
    kind,
    status: "refused",
    rows,
    loaded: 0,
    rejected: rejectedLines,
    errors: errors.slice(0, MAX_ERRORS_REPORTED),
    message,
  };
}

// ---------------------------------------------------------------------------------------------
// Referential

const REF_COLUMNS = [
  "grappe_id",
  "grappe_nom",
  "region",
  "finess",
  "finess_ej",
  "raison_sociale",
  "categorie",
  "public",
  "type_projet",
  "exempt_mss_dmp",
  "rang",
  "ratio_heures_eligibles",
  "financement_specifique_eur",
  "date_debut_projet",
  "date_vsr",
  "date_va_prevue",
  "date_va",
  "date_vsr_prevue",
  "vague",
  "date_bascule_prevue",
  "date_fin_prevue",
] as const;
const REF_REQUIRED = [
  "grappe_id",
  "grappe_nom",
  "region",
  "finess",
  "finess_ej",
  "raison_sociale",
  "type_projet",
];
export const PUBLICS = ["PA", "PH", "DOM", "PDE", "PDS", "AHI", "PJM"] as const;

function referentialSchema(fc: FieldContext) {
  return z.object({
    grappe_id: requiredText("grappe_id"),
    grappe_nom: requiredText("grappe_nom"),
    region: requiredText("region").transform((r) => r.toUpperCase()),
    finess: finess(fc, { checkReferential: false }),
    finess_ej: finess(fc, { checkReferential: false }),
    raison_sociale: requiredText("raison_sociale"),
    categorie: optionalText,
    public: oneOf([...PUBLICS, ""] as const, "public").transform((v) => (v === "" ? null : v)),
    type_projet: oneOf(["acquisition", "mise_a_niveau"] as const, "type_projet"),
    exempt_mss_dmp: flag01,
    rang: nonNegativeInteger("rang", false),
    ratio_heures_eligibles: decimal("ratio_heures_eligibles", 1).refine((n) => n <= 1, {
      message: rejectionMessage("nombre_hors_bornes", "ratio_heures_eligibles : entre 0 et 1"),
      params: { reason: "nombre_hors_bornes" },
    }),
    financement_specifique_eur: decimal("financement_specifique_eur", 0),
    date_debut_projet: optionalDay(fc),
    date_vsr: optionalDay(fc),
    // The calendar (R-C1, R-C4): planned dates may lie up to five years ahead.
    date_va_prevue: optionalDay(plannedContext(fc)),
    date_va: optionalDay(fc),
    date_vsr_prevue: optionalDay(plannedContext(fc)),
    vague: optionalText,
    date_bascule_prevue: optionalDay(plannedContext(fc)),
    date_fin_prevue: optionalDay(plannedContext(fc)),
  });
}

/** Planned dates (a candidature's calendar) are read up to five years after the import's day. */
function plannedContext(fc: FieldContext): FieldContext {
  return { ...fc, maxDay: addMonths(fc.importDay, 60) };
}

/**
 * Runs `work` (a whole transaction) again when the database chose it to break a deadlock
 * (SQLSTATE 40P01): a referential import that moves ESSMS takes their per-FINESS locks, which an
 * import of several FINESS may hold in another order (the importer retries the same way).
 */
async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (e) {
      if (!isDeadlock(e) || i >= attempts) throw e;
    }
  }
}

export async function importReferential(db: Db, path: string, label = path): Promise<ProgrammeResult> {
  const fc = fieldContext(todayParis());
  const read = await readAll(path, REF_COLUMNS, REF_REQUIRED, referentialSchema(fc));
  if ("refused" in read) return refused(label, "referentiel", read.refused);
  const { rows, errors, count } = read;
  const grappes = crossRowChecks(rows, errors);
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line);
    return refused(
      label,
      "referentiel",
      "le référentiel contient des erreurs : rien n'a été chargé",
      count,
      errors,
    );
  }
  const { regions, grappeRows, essmsRows } = referentialRows(rows, [...grappes.keys()]);
  await retryOnDeadlock(() =>
    db.transaction(async (tx) => {
      const ids = grappeRows.map((g) => g.grappe_id);
      const before = await grappeCalendarRows(tx, ids);
      await saveReferential(tx, regions, grappeRows, essmsRows);
      await auditCalendarChanges(tx, before, await grappeCalendarRows(tx, ids));
    }),
  );
  return {
    file: label,
    kind: "referentiel",
    status: "loaded",
    rows: count,
    loaded: essmsRows.length,
    rejected: 0,
    errors: [],
    summary: { grappes: grappes.size, essms: essmsRows.length },
  };
}

type ReferentialRow = z.output<ReturnType<typeof referentialSchema>>;

/** R-C1: every change of a grappe's calendar is audited, the referential's as the application's. */
async function auditCalendarChanges(
  tx: Queryable,
  before: readonly GrappeCalendarRow[],
  after: readonly GrappeCalendarRow[],
): Promise<void> {
  const old = new Map(before.map((r) => [r.grappe_id, r]));
  for (const now of after) {
    const was = old.get(now.grappe_id);
    const changed = CALENDAR_FIELDS.filter((f) => (was?.[f] ?? null) !== now[f]);
    if (changed.length === 0) continue;
    await audit(
      tx,
      "import",
      "calendar.import",
      "grappe",
      now.grappe_id,
      now.grappe_id,
      was ? Object.fromEntries(changed.map((f) => [f, was[f]])) : null,
      Object.fromEntries(changed.map((f) => [f, now[f]])),
    );
  }
}

/**
 * Cross-row rules: one region per grappe, one grappe per ESSMS (their errors added to `errors`).
 * Returns the grappes in file order, with their first mention.
 */
function crossRowChecks(
  rows: readonly { line: number; value: ReferentialRow }[],
  errors: RowError[],
): Map<string, { line: number; region: string; nom: string }> {
  const grappes = new Map<string, { line: number; region: string; nom: string }>();
  const seenFiness = new Map<string, number>();
  for (const { line, value: r } of rows) {
    const g = grappes.get(r.grappe_id);
    if (!g) grappes.set(r.grappe_id, { line, region: r.region, nom: r.grappe_nom });
    else if (g.region !== r.region) {
      errors.push({
        line,
        column: "region",
        message: rejectionMessage("region_incoherente", `première mention ligne ${g.line}`),
        reason: "region_incoherente",
      });
    }
    const prev = seenFiness.get(r.finess);
    if (prev !== undefined) {
      errors.push({
        line,
        column: "finess",
        message: rejectionMessage("finess_en_double", `ligne ${prev}`),
        reason: "finess_en_double",
      });
    } else seenFiness.set(r.finess, line);
  }
  return grappes;
}

/** The first non-empty value of a grappe's calendar column in the file. */
function firstOf(
  rows: readonly ReferentialRow[],
  grappeId: string,
  column: "date_va_prevue" | "date_va" | "date_vsr_prevue" | "date_fin_prevue",
): Day | null {
  return rows.find((r) => r.grappe_id === grappeId && r[column])?.[column] ?? null;
}

/**
 * The referential's rows as the store takes them: its regions, each grappe (name and region of
 * its first ESSMS, its first project start and VSR dates), each ESSMS (default rank: file order
 * within the grappe).
 */
function referentialRows(rows: readonly { value: ReferentialRow }[], grappeIds: readonly string[]) {
  const position = new Map<string, number>();
  const ranked = rows.map(({ value: r }) => {
    const p = (position.get(r.grappe_id) ?? 0) + 1;
    position.set(r.grappe_id, p);
    return { ...r, rang: r.rang ?? p };
  });
  const grappeRows = grappeIds.flatMap((grappeId) => {
    const first = ranked.find((r) => r.grappe_id === grappeId);
    if (!first) return [];
    return [
      {
        grappe_id: grappeId,
        grappe_nom: first.grappe_nom,
        region: first.region,
        date_debut_projet:
          ranked.find((r) => r.grappe_id === grappeId && r.date_debut_projet)?.date_debut_projet ?? null,
        date_vsr: ranked.find((r) => r.grappe_id === grappeId && r.date_vsr)?.date_vsr ?? null,
        // R-C1: the first value of the grappe's rows; an empty column erases nothing (saveReferential).
        date_va_prevue: firstOf(ranked, grappeId, "date_va_prevue"),
        date_va: firstOf(ranked, grappeId, "date_va"),
        date_vsr_prevue: firstOf(ranked, grappeId, "date_vsr_prevue"),
        date_fin_prevue: firstOf(ranked, grappeId, "date_fin_prevue"),
      },
    ];
  });
  const essmsRows = ranked.map((r) => ({
    finess: r.finess,
    grappe_id: r.grappe_id,
    finess_ej: r.finess_ej,
    raison_sociale: r.raison_sociale,
    categorie: r.categorie,
    public: r.public,
    type_projet: r.type_projet,
    exempt_mss_dmp: r.exempt_mss_dmp,
    rang: r.rang,
    ratio_heures_eligibles: r.ratio_heures_eligibles,
    financement_specifique_eur: r.financement_specifique_eur,
    date_debut_projet: r.date_debut_projet,
    vague: r.vague,
    date_bascule_prevue: r.date_bascule_prevue,
  }));
  return { regions: new Set(ranked.map((r) => r.region)), grappeRows, essmsRows };
}

// ---------------------------------------------------------------------------------------------
// Adjustments (aménagements) as decided

const ADJ_COLUMNS = [
  "finess",
  "indicateur",
  "nombre",
  "categorie",
  "justification",
  "date_debut",
  "date_fin",
  "statut",
] as const;
const ADJ_REQUIRED = ["finess", "indicateur", "nombre", "categorie", "date_debut", "statut"];

export async function importAdjustments(
  db: Db,
  path: string,
  label = path,
  actor = "import",
): Promise<ProgrammeResult> {
  const fc = fieldContext(todayParis(), await knownFiness(db));
  const schema = z
    .object({
      finess: finess(fc),
      indicateur: oneOf(INDICATOR_IDS, "indicateur"),
      // At most MAX_ADJUSTED_PERSONS per adjustment, as the API's proposals (sums stay exact).
      nombre: nonNegativeInteger("nombre", true)
        .transform((n) => n as number)
        .refine((n) => n <= MAX_ADJUSTED_PERSONS, {
          message: rejectionMessage(
            "nombre_hors_bornes",
            `nombre : ${MAX_ADJUSTED_PERSONS.toLocaleString("fr-FR")} au plus`,
          ),
          params: { reason: "nombre_hors_bornes" },
        }),
      categorie: requiredText("categorie"),
      justification: optionalFreeText,
      date_debut: requiredDay(fc),
      date_fin: optionalDay(fc),
      statut: status(resolver(AMENAGEMENT_STATUT)),
    })
    .superRefine((r, ctx) => {
      if (r.date_fin !== null && r.date_fin < r.date_debut) {
        ctx.addIssue({
          code: "custom",
          path: ["date_fin"],
          message: rejectionMessage("fin_avant_debut"),
          params: { reason: "fin_avant_debut" },
        });
      }
    });
  const read = await readAll(path, ADJ_COLUMNS, ADJ_REQUIRED, schema);
  if ("refused" in read) return refused(label, "amenagements", read.refused);
  if (read.errors.length > 0) {
    return refused(
      label,
      "amenagements",
      "le fichier contient des erreurs : rien n'a été chargé",
      read.count,
      read.errors,
    );
  }
  await db.transaction(async (tx) => {
    for (const { value: r } of read.rows) await saveImportedAdjustment(tx, r, actor);
  });
  return {
    file: label,
    kind: "amenagements",
    status: "loaded",
    rows: read.count,
    loaded: read.rows.length,
    rejected: 0,
    errors: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Declared file active (R-P2)

const FA_COLUMNS = ["finess", "date_debut", "date_fin", "valeur", "source"] as const;
const FA_REQUIRED = ["finess", "date_debut", "date_fin", "valeur"];

export async function importFileActive(db: Db, path: string, label = path): Promise<ProgrammeResult> {
  const fc = fieldContext(todayParis(), await knownFiness(db));
  const schema = z
    .object({
      finess: finess(fc),
      date_debut: requiredDay(fc),
      date_fin: requiredDay(fc),
      valeur: nonNegativeInteger("valeur", true).transform((n) => n as number),
      source: optionalText,
    })
    .superRefine((r, ctx) => {
      if (r.date_fin < r.date_debut) {
        ctx.addIssue({
          code: "custom",
          path: ["date_fin"],
          message: rejectionMessage("fin_avant_debut"),
          params: { reason: "fin_avant_debut" },
        });
      }
    });
  const read = await readAll(path, FA_COLUMNS, FA_REQUIRED, schema);
  if ("refused" in read) return refused(label, "file_active", read.refused);
  if (read.errors.length > 0) {
    return refused(
      label,
      "file_active",
      "le fichier contient des erreurs : rien n'a été chargé",
      read.count,
      read.errors,
    );
  }
  await db.transaction(async (tx) => {
    for (const { value: r } of read.rows) await saveDeclaredFileActive(tx, r);
  });
  return {
    file: label,
    kind: "file_active",
    status: "loaded",
    rows: read.count,
    loaded: read.rows.length,
    rejected: 0,
    errors: [],
  };
}

export type { Day };
