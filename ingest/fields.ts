/**
 * Zod field schemas for CSV cells: each turns a raw cell into a typed value or a French message.
 * Rows are validated with z.object of these, so a message always names its column.
 */
import { z } from "zod";
import { addMonths, type Day, parseDay, parseParisDay } from "../domain/dates.ts";
import { checkFiness } from "../domain/finess.ts";
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

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER as never;
}

type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** A cell rule as a zod schema: the raw cell in, a typed value or a French message out. */
function checkedCell<T>(check: (v: string) => Checked<T>) {
  return cell.transform((v, ctx): T => {
    const r = check(v);
    return r.ok ? r.value : fail(ctx, r.message);
  });
}

export function requiredText(label: string) {
  return cell.transform((v, ctx) => {
    const t = v.trim();
    return t === "" ? fail(ctx, `valeur obligatoire manquante (${label})`) : t;
  });
}

export const optionalText = cell.transform((v) => {
  const t = v.trim();
  return t === "" ? null : t;
});

export function finess(fc: FieldContext, opts: { checkReferential?: boolean } = {}) {
  return checkedCell((v): Checked<string> => {
    const c = checkFiness(v);
    if (!c.ok) return { ok: false, message: c.message };
    if (opts.checkReferential !== false && fc.knownFiness && !fc.knownFiness.has(c.finess)) {
      return { ok: false, message: `FINESS ${c.finess} absent du référentiel` };
    }
    if (opts.checkReferential !== false && fc.scopeFiness && !fc.scopeFiness.has(c.finess)) {
      return {
        ok: false,
        message: `FINESS ${c.finess} hors de votre périmètre (grappes auxquelles vous avez accès)`,
      };
    }
    return { ok: true, value: c.finess };
  });
}

function dayField(fc: FieldContext, required: boolean, allowTime: boolean) {
  return checkedCell((v): Checked<Day | null> => {
    const t = v.trim();
    if (t === "")
      return required ? { ok: false, message: "date obligatoire manquante" } : { ok: true, value: null };
    const d = allowTime ? parseParisDay(t) : parseDay(t);
    if (!d) {
      return {
        ok: false,
        message: allowTime
          ? `date « ${t} » illisible : formats acceptés AAAA-MM-JJ, JJ/MM/AAAA, AAAA-MM-JJTHH:MM[:SS][Z|±HH:MM], JJ/MM/AAAA HH:MM[:SS]`
          : `date « ${t} » illisible : formats acceptés AAAA-MM-JJ ou JJ/MM/AAAA`,
      };
    }
    const range = dayInRange(d, fc.importDay, fc.maxDay);
    return range ? { ok: false, message: range } : { ok: true, value: d };
  });
}

export const requiredDay = (fc: FieldContext) => dayField(fc, true, false).transform((d) => d as Day);
export const optionalDay = (fc: FieldContext) => dayField(fc, false, false);
/** date or timestamp, placed on its Europe/Paris day (R-T2) */
export const requiredMoment = (fc: FieldContext) => dayField(fc, true, true).transform((d) => d as Day);
export const optionalMoment = (fc: FieldContext) => dayField(fc, false, true);

export function status<C extends string>(resolve: Resolver<C>) {
  return checkedCell((v): Checked<C> => resolve(v));
}

export function oneOf<C extends string>(values: readonly C[], label: string, defaultValue?: C) {
  return cell.transform((v, ctx): C => {
    const t = v.trim();
    if (t === "" && defaultValue !== undefined) return defaultValue;
    const hit = values.find((x) => x.toLowerCase() === t.toLowerCase());
    const listed = values.filter((x) => x !== "").join(", ");
    return hit ?? fail(ctx, `${label} « ${t} » invalide : valeurs acceptées ${listed}`);
  });
}

export function decimal(label: string, defaultValue: number, min = 0) {
  return cell.transform((v, ctx) => {
    if (v.trim() === "") return defaultValue;
    const n = parseDecimal(v);
    if (n === null) return fail(ctx, `${label} « ${v.trim()} » n'est pas un nombre`);
    return n < min ? fail(ctx, `${label} doit être supérieur ou égal à ${min}`) : n;
  });
}

export function nonNegativeInteger(label: string, required: boolean) {
  return cell.transform((v, ctx): number | null => {
    if (v.trim() === "") return required ? fail(ctx, `valeur obligatoire manquante (${label})`) : null;
    const n = parseNonNegativeInteger(v);
    return n === null ? fail(ctx, `${label} « ${v.trim()} » doit être un entier positif ou nul`) : n;
  });
}

export const flag01 = cell.transform((v, ctx) => {
  const b = parseFlag01(v);
  if (b === null && v.trim() !== "") return fail(ctx, `valeur « ${v.trim()} » invalide : 0 ou 1 attendu`);
  return b ?? false;
});

export interface RowError {
  line: number;
  column: string | null;
  message: string;
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
      message: iss.message,
    })),
  };
}

/** A row-level rule, checked once every cell is valid (e.g. date_sortie ≥ date_entree). */
export type RowCheck = (value: (column: string) => unknown) => { column: string; message: string } | null;

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
        for (const iss of r.error.issues) errors.push({ line, column: c.name, message: iss.message });
      }
    }
    if (errors) return { ok: false, errors };
    if (rowCheck) {
      const e = rowCheck((column) => values[position.get(column) as number]);
      if (e) return { ok: false, errors: [{ line, column: e.column, message: e.message }] };
    }
    return { ok: true, values };
  };
}
