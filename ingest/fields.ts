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
const MEMO_LIMIT = 20_000;

/**
 * A cell transform whose result depends only on the raw cell (dates, statuses, FINESS): exports
 * repeat the same few hundred values millions of times, so each distinct value is checked once
 * per file. The cache is bounded and belongs to one schema, hence to one import.
 */
function memoCell<T>(check: (v: string) => Checked<T>) {
  const cache = new Map<string, Checked<T>>();
  return cell.transform((v, ctx): T => {
    let r = cache.get(v);
    if (r === undefined) {
      r = check(v);
      if (cache.size >= MEMO_LIMIT) cache.clear();
      cache.set(v, r);
    }
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
  return memoCell((v): Checked<string> => {
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
  return memoCell((v): Checked<Day | null> => {
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
  return memoCell((v): Checked<C> => resolve(v));
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
