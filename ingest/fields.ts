/**
 * Zod field schemas for CSV cells: each turns a raw cell into a typed value or a French message.
 * Rows are validated with z.object of these, so a message always names its column.
 */
import { z } from "zod";
import { addMonths, type Day, isMonthFirstOnly, parseDay, parseParisDay } from "../domain/dates.ts";
import { checkFiness } from "../domain/finess.ts";
import {
  hasForbiddenCharacter,
  hasForbiddenIdentifierCharacter,
  isRejectionReason,
  isScientificNotation,
  MAX_DECIMAL,
  MAX_FREE_TEXT_LENGTH,
  MAX_INTEGER,
  MAX_TEXT_LENGTH,
  type RejectionReason,
  rejectionMessage,
  trimIdentifier,
} from "../domain/rejections.ts";
import { dayInRange, parseDecimal, parseFlag01, parseNonNegativeInteger } from "../domain/values.ts";
import type { Resolver } from "../domain/vocabulary.ts";

export interface FieldContext {
  importDay: Day;
  maxDay: Day;
  /** FINESS of the referential; undefined = not checked */
  knownFiness?: ReadonlySet<string>;
  /** FINESS the sender may load (API uploads); undefined = no restriction */
  scopeFiness?: ReadonlySet<string>;
}

export function fieldContext(
  importDay: Day,
  knownFiness?: ReadonlySet<string>,
  scopeFiness?: ReadonlySet<string>,
): FieldContext {
  return {
    importDay,
    maxDay: addMonths(importDay, 12),
    ...(knownFiness ? { knownFiness } : {}),
    ...(scopeFiness ? { scopeFiness } : {}),
  };
}

const cell = z.string().default("");

/** Fails the cell with a reason of the closed list (domain/rejections.ts), never its value. */
function fail(ctx: z.RefinementCtx, reason: RejectionReason, detail?: string): never {
  ctx.addIssue({ code: "custom", message: rejectionMessage(reason, detail), params: { reason } });
  return z.NEVER as never;
}

type Checked<T> = { ok: true; value: T } | { ok: false; reason: RejectionReason; detail?: string };

/** A cell rule as a zod schema: the raw cell in, a typed value or a reason out. */
function checkedCell<T>(check: (v: string) => Checked<T>) {
  return cell.transform((v, ctx): T => {
    const r = check(v);
    return r.ok ? r.value : fail(ctx, r.reason, r.detail);
  });
}

/** Bounded text: identifiers and short labels (MAX_TEXT_LENGTH), or free text (MAX_FREE_TEXT_LENGTH). */
function boundedText(t: string, max: number): Checked<string> | null {
  if (t.length > max)
    return { ok: false, reason: max > MAX_TEXT_LENGTH ? "texte_libre_trop_long" : "texte_trop_long" };
  return hasForbiddenCharacter(t) ? { ok: false, reason: "caractere_interdit" } : null;
}

/** A required identifier or label: trimmed, at most MAX_TEXT_LENGTH characters. */
export function requiredText(label: string) {
  return checkedCell((v): Checked<string> => {
    const t = v.trim();
    if (t === "") return { ok: false, reason: "valeur_manquante", detail: label };
    return boundedText(t, MAX_TEXT_LENGTH) ?? { ok: true, value: t };
  });
}

/**
 * An identifier's cell (`usager_id`, `*_id`, exports.md §1): text kept as written once the
 * invisible characters at either end are removed (`trimIdentifier`: spaces, NBSP, zero-width
 * space, BOM); any other control, format or direction character anywhere is an error, and so is
 * scientific notation (a spreadsheet's rounding: two persons would merge); at most
 * MAX_TEXT_LENGTH characters. Empty → null.
 */
function identifier(v: string): Checked<string | null> {
  const t = trimIdentifier(v);
  if (t === "") return { ok: true, value: null };
  if (t.length > MAX_TEXT_LENGTH) return { ok: false, reason: "texte_trop_long" };
  if (hasForbiddenIdentifierCharacter(t)) return { ok: false, reason: "caractere_invisible_identifiant" };
  if (isScientificNotation(t)) return { ok: false, reason: "notation_scientifique" };
  return { ok: true, value: t };
}

/** A required identifier (`usager_id`, `*_id`): as `identifier`, empty is an error. */
export function requiredIdentifier(label: string) {
  return checkedCell((v): Checked<string> => {
    const r = identifier(v);
    if (r.ok && r.value === null) return { ok: false, reason: "valeur_manquante", detail: label };
    return r as Checked<string>;
  });
}

/** An optional identifier: as `requiredIdentifier`, empty → null. */
export const optionalIdentifier = checkedCell(identifier);

/**
 * A column of the canonical layout that no rule reads and the product does not keep (the MS Santé
 * `destinataire`, exports.md §3; ADR 0027): accepted in a file, its cell never looked at, null.
 */
export const unreadCell = cell.transform((): null => null);

/** Optional short text (a label, a type): at most MAX_TEXT_LENGTH characters, empty → null. */
export const optionalText = checkedCell((v): Checked<string | null> => {
  const t = v.trim();
  if (t === "") return { ok: true, value: null };
  return boundedText(t, MAX_TEXT_LENGTH) ?? { ok: true, value: t };
});

/** Optional free text (a justification): at most MAX_FREE_TEXT_LENGTH characters. */
export const optionalFreeText = checkedCell((v): Checked<string | null> => {
  const t = v.trim();
  if (t === "") return { ok: true, value: null };
  return boundedText(t, MAX_FREE_TEXT_LENGTH) ?? { ok: true, value: t };
});

/**
 * A FINESS cell (exports.md §1). With a scope (an upload by a grappe's user), a FINESS of another
 * grappe and one absent from the referential get the same reason: which FINESS exist elsewhere is
 * not the sender's business (no membership oracle).
 */
export function finess(fc: FieldContext, opts: { checkReferential?: boolean } = {}) {
  return checkedCell((v): Checked<string> => {
    const c = checkFiness(v);
    if (!c.ok) return c.reason === "valeur_manquante" ? { ok: false, reason: c.reason, detail: "FINESS" } : c;
    if (opts.checkReferential === false) return { ok: true, value: c.finess };
    if (fc.scopeFiness && !fc.scopeFiness.has(c.finess))
      return { ok: false, reason: "finess_hors_perimetre" };
    if (fc.knownFiness && !fc.knownFiness.has(c.finess)) return { ok: false, reason: "finess_inconnu" };
    return { ok: true, value: c.finess };
  });
}

function dayField(fc: FieldContext, required: boolean, allowTime: boolean) {
  return checkedCell((v): Checked<Day | null> => {
    const t = v.trim();
    if (t === "")
      return required ? { ok: false, reason: "valeur_manquante", detail: "date" } : { ok: true, value: null };
    const d = allowTime ? parseParisDay(t) : parseDay(t);
    if (!d) {
      // An English-locale tool's date: the caller refuses the whole file (exports.md §1).
      if (isMonthFirstOnly(t)) return { ok: false, reason: "date_mois_en_premier" };
      return { ok: false, reason: allowTime ? "horodatage_illisible" : "date_illisible" };
    }
    const range = dayInRange(d, fc.maxDay);
    return range ? { ok: false, reason: range } : { ok: true, value: d };
  });
}

export const requiredDay = (fc: FieldContext) => dayField(fc, true, false).transform((d) => d as Day);
export const optionalDay = (fc: FieldContext) => dayField(fc, false, false);
/** date or timestamp, placed on its Europe/Paris day (R-T2) */
export const requiredMoment = (fc: FieldContext) => dayField(fc, true, true).transform((d) => d as Day);
export const optionalMoment = (fc: FieldContext) => dayField(fc, false, true);

export function status<C extends string>(resolve: Resolver<C>) {
  return checkedCell((v): Checked<C> => {
    const r = resolve(v);
    return r.ok ? r : { ok: false, reason: r.reason, detail: r.detail };
  });
}

export function oneOf<C extends string>(values: readonly C[], label: string, defaultValue?: C) {
  const listed = values.filter((x) => x !== "").join(", ");
  return checkedCell((v): Checked<C> => {
    const t = v.trim();
    if (t === "" && defaultValue !== undefined) return { ok: true, value: defaultValue };
    const hit = values.find((x) => x.toLowerCase() === t.toLowerCase());
    return hit !== undefined
      ? { ok: true, value: hit }
      : {
          ok: false,
          reason: t === "" ? "valeur_manquante" : "valeur_inconnue",
          detail: `${label} : valeurs acceptées ${listed}`,
        };
  });
}

/** A decimal (`0,5`, `1 234,5`) between `min` and MAX_DECIMAL; empty → the default. */
export function decimal(label: string, defaultValue: number, min = 0) {
  return checkedCell((v): Checked<number> => {
    if (v.trim() === "") return { ok: true, value: defaultValue };
    const n = parseDecimal(v.length > 64 ? "x" : v);
    if (n === null) return { ok: false, reason: "nombre_invalide", detail: label };
    if (n < min || n > MAX_DECIMAL)
      return {
        ok: false,
        reason: "nombre_hors_bornes",
        detail: `${label} : entre ${min} et ${MAX_DECIMAL.toLocaleString("fr-FR")}`,
      };
    return { ok: true, value: n };
  });
}

/** A non-negative integer that fits PostgreSQL's `integer` (≤ MAX_INTEGER); empty → null or an error. */
export function nonNegativeInteger(label: string, required: boolean) {
  return checkedCell((v): Checked<number | null> => {
    if (v.trim() === "")
      return required ? { ok: false, reason: "valeur_manquante", detail: label } : { ok: true, value: null };
    const n = parseNonNegativeInteger(v.length > 64 ? "x" : v);
    if (n === null) return { ok: false, reason: "entier_invalide", detail: label };
    return n > MAX_INTEGER
      ? { ok: false, reason: "entier_trop_grand", detail: label }
      : { ok: true, value: n };
  });
}

export const flag01 = checkedCell((v): Checked<boolean> => {
  const b = parseFlag01(v);
  if (b === null && v.trim() !== "") return { ok: false, reason: "drapeau_invalide" };
  return { ok: true, value: b ?? false };
});

/** A rejected row's line, column and reason (exports.md §2): never the cell's value. */
export interface RowError {
  line: number;
  column: string | null;
  message: string;
  /** the reason, from the closed list (domain/rejections.ts) */
  reason?: RejectionReason;
  /** the row's FINESS when it is valid and known: who may see the rejection (scope) */
  finess?: string | null;
}

/**
 * Where a rejection is, for people: `ligne N, colonne C` in a CSV file; in a TDDUI Bundle
 * (ADR 0014) the JSON path of the faulty element (`entry[12].resource.period.start`).
 */
export function rowErrorPlace(e: Pick<RowError, "line" | "column">): string {
  if (e.column?.startsWith("entry[")) return e.column;
  return `ligne ${e.line}${e.column ? `, colonne ${e.column}` : ""}`;
}

/** The reason carried by a zod issue raised by our cell schemas (`valeur_invalide` otherwise). */
export function issueReason(iss: z.core.$ZodIssue): RejectionReason {
  const r = (iss as { params?: { reason?: unknown } }).params?.reason;
  return isRejectionReason(r) ? r : "valeur_invalide";
}

/** A zod issue as a value-free French message (our custom messages, or the reason's text). */
export function issueMessage(iss: z.core.$ZodIssue): string {
  return iss.code === "custom" ? iss.message : rejectionMessage("valeur_invalide");
}

/** Builds a row object from fields by column index and validates it; errors name their column. */
export function validateRow<S extends z.ZodType>(
  schema: S,
  columns: readonly string[],
  index: Record<string, number>,
  fields: readonly string[],
  line: number,
): { ok: true; value: z.output<S> } | { ok: false; errors: RowError[] } {
  const raw: Record<string, string> = {};
  for (const c of columns) {
    const i = index[c];
    raw[c] = i === undefined ? "" : (fields[i] ?? "");
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    errors: r.error.issues.map((iss) => ({
      line,
      column: iss.path.length > 0 ? String(iss.path[0]) : null,
      message: issueMessage(iss),
      reason: issueReason(iss),
    })),
  };
}

/** A row-level rule, checked once every cell is valid (e.g. date_sortie ≥ date_entree). */
export type RowCheck = (
  value: (column: string) => unknown,
) => { column: string; reason: RejectionReason } | null;

export type CheckedRow = { ok: true; values: unknown[] } | { ok: false; errors: RowError[] };

/** Lookups after which a column's memo is kept only if at least half of them were hits. */
const MEMO_TRIAL = 1024;
const MEMO_LIMIT = 20_000;

export type RowValidator = (fields: readonly string[], line: number) => CheckedRow;

/**
 * The file's row validator (ADR 0007): the same zod cell schemas as `validateRow`, applied cell by
 * cell, values returned in `columns` order. A cell's result depends only on its raw text within
 * one file (the field context is fixed), and exports repeat the same few hundred dates, FINESS
 * and statuses millions of times: each column keeps a bounded memo of its results while at
 * least half of its lookups hit (identifiers never repeat enough and go straight to zod).
 */
export function compileRowValidator(
  schema: z.ZodObject,
  columns: readonly string[],
  index: Record<string, number>,
  rowCheck?: RowCheck,
): RowValidator {
  type Memo = Map<string, z.ZodSafeParseResult<unknown>>;
  const cells = columns.map((name) => {
    const s = schema.shape[name];
    if (!s) throw new Error(`colonne ${name} absente du schéma`);
    return {
      name,
      at: index[name],
      schema: s as z.ZodType,
      memo: new Map() as Memo | null,
      lookups: 0,
      hits: 0,
    };
  });
  const position = new Map(columns.map((c, i) => [c, i]));
  return (fields, line) => {
    const values: unknown[] = new Array(cells.length);
    let errors: RowError[] | null = null;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i] as (typeof cells)[number];
      const raw = c.at === undefined ? "" : (fields[c.at] ?? "");
      let r: z.ZodSafeParseResult<unknown> | undefined;
      const memo = c.memo;
      if (memo) {
        r = memo.get(raw);
        c.lookups += 1;
        if (r === undefined) {
          r = c.schema.safeParse(raw);
          if (memo.size >= MEMO_LIMIT) memo.clear();
          memo.set(raw, r);
        } else c.hits += 1;
        if (c.lookups === MEMO_TRIAL && c.hits * 2 < MEMO_TRIAL) c.memo = null;
      } else r = c.schema.safeParse(raw);
      if (r.success) values[i] = r.data;
      else {
        errors ??= [];
        for (const iss of r.error.issues)
          errors.push({ line, column: c.name, message: issueMessage(iss), reason: issueReason(iss) });
      }
    }
    if (errors) return { ok: false, errors };
    if (rowCheck) {
      const e = rowCheck((column) => values[position.get(column) as number]);
      if (e)
        return {
          ok: false,
          errors: [{ line, column: e.column, message: rejectionMessage(e.reason), reason: e.reason }],
        };
    }
    return { ok: true, values };
  };
}
