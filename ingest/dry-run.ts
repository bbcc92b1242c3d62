/**
 * What an import would change, measured without keeping it (issue 16 §2, cli.md `--dry-run`):
 * the file goes through the import's own line (pipeline.ts) — read, validated, staged, merged
 * and refreshed in its transaction — which ends here instead of in its record (`dryRunEnd`):
 * the state of the file's ESSMS is measured inside the transaction (after), which is then rolled
 * back, and again (before): the differences are what the import would do.
 */
import type { Db, Queryable, Tx } from "../db/index.ts";
import { type Day, targetDate, todayParis } from "../domain/dates.ts";
import { INDICATOR_IDS, type IndicatorId } from "../domain/indicators.ts";
import { computeReport } from "../sql/queries.ts";
import type { Kind } from "./kinds.ts";
import type { DryRunChanges, LineEnd } from "./result.ts";

/**
 * How a dry run ends its line (result.ts `LineEnd`): no number is reserved (its rows roll back
 * with the number 0); once merged and refreshed, the state of the file's ESSMS is measured
 * (after), the transaction rolls back, and the state is measured again (before). Inside a
 * caller's check (a TDDUI Bundle's, `checkInside`), the caller is told the FINESS instead and
 * rolls everything back itself.
 */
export function dryRunEnd(
  db: Db,
  kind: Kind,
  checkInside: ((finess: string[]) => void) | undefined,
): LineEnd {
  let measured: { finess: string[]; after: StateOfEssms } | undefined;
  return {
    reserveId: async () => 0,
    async transaction(fn) {
      if (checkInside) return db.transaction(fn);
      const result = await rolledBack(db, fn);
      const { finess, after } = measured as { finess: string[]; after: StateOfEssms };
      // Rolled back: the database is as before; measure it again to tell the difference.
      const before = await measureState(db, kind, finess);
      return { ...result, dry_run: true, changes: dryRunChanges(before, after, result.loaded) };
    },
    async finish(tx, result, _importId, perFiness) {
      const finess = [...perFiness.keys()].sort();
      if (checkInside) {
        checkInside(finess);
        return { ...result, dry_run: true as const };
      }
      measured = { finess, after: await measureState(tx, kind, finess) };
      return result;
    },
  };
}

class RollBack extends Error {}

/** Runs `fn` in a transaction that is rolled back once `fn` has returned; gives what it returned. */
async function rolledBack<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let out: { value: T } | undefined;
  try {
    await db.transaction(async (tx) => {
      out = { value: await fn(tx) };
      throw new RollBack("essai sans chargement");
    });
  } catch (e) {
    if (!(e instanceof RollBack)) throw e;
  }
  return (out as { value: T }).value;
}

/** The fact table whose rows a kind's lines become (its key decides new or replacing). */
const MAIN_TABLE: Record<Kind, string> = {
  dossiers: "sejour",
  dossier_maj: "update_trace",
  projets_personnalises: "projet_personnalise",
  agenda: "agenda_event",
  mss: "mss_message",
  dmp: "dmp_document",
  eprescription: "optional_event",
  eparcours: "optional_event",
};

/** The tables whose `statut` the summary follows, by kind. */
const STATUS_TABLE: Partial<Record<Kind, string>> = {
  projets_personnalises: "projet_personnalise",
  agenda: "agenda_event",
  mss: "mss_message",
  dmp: "dmp_document",
};

/** The facts of some ESSMS at one moment, and their indicators at the dates that matter. */
export interface StateOfEssms {
  /** usagers with a dossier: at least one séjour (an agenda or DMP row alone registers a usager, not a dossier) */
  dossiers: number;
  sejours: number;
  exits: number;
  main: number;
  statuses: Record<string, number>;
  reports: {
    date: Day;
    essms: { finess: string; indicators: Record<IndicatorId, { rate: number | null; met: boolean }> }[];
  }[];
}

/** The dates a dry run shows the effect at: today and each grappe's target date (R-T3). */
async function effectDates(q: Queryable, finess: readonly string[]): Promise<Map<Day, string[]>> {
  const rows = await q.kysely
    .selectFrom("essms as e")
    .innerJoin("grappe as g", "g.grappe_id", "e.grappe_id")
    .select(["e.grappe_id", "g.date_vsr"])
    .where("e.finess", "in", [...finess])
    .distinct()
    .execute();
  const dates = new Map<Day, string[]>();
  const add = (d: Day, g: string) => dates.set(d, [...new Set([...(dates.get(d) ?? []), g])]);
  for (const r of rows) {
    add(todayParis(), r.grappe_id);
    if (r.date_vsr) add(targetDate(r.date_vsr), r.grappe_id);
  }
  return dates;
}

/** Measures the facts of these ESSMS for one kind, and their indicators today and at the target dates. */
export async function measureState(
  q: Queryable,
  kind: Kind,
  finess: readonly string[],
): Promise<StateOfEssms> {
  const list = [...finess];
  const count = async (sql: string) => ((await q.query<{ n: number }>(sql, [list]))[0]?.n ?? 0) as number;
  const statusTable = STATUS_TABLE[kind];
  const statuses: Record<string, number> = {};
  if (statusTable)
    for (const r of await q.query<{ statut: string; n: number }>(
      `select statut, count(*)::int as n from ${statusTable} where finess = any($1::text[]) group by statut`,
      [list],
    ))
      statuses[r.statut] = r.n;
  const reports: StateOfEssms["reports"] = [];
  for (const [date, grappes] of await effectDates(q, list)) {
    const report = await computeReport(q, date, grappes);
    reports.push({
      date,
      essms: report.essms
        .filter((e) => list.includes(e.finess))
        .map((e) => ({
          finess: e.finess,
          indicators: Object.fromEntries(
            INDICATOR_IDS.map((id) => [id, { rate: e.indicators[id].rate, met: e.indicators[id].met }]),
          ) as Record<IndicatorId, { rate: number | null; met: boolean }>,
        })),
    });
  }
  return {
    dossiers: await count(
      "select count(distinct usager)::int as n from sejour where finess = any($1::text[])",
    ),
    sejours: await count("select count(*)::int as n from sejour where finess = any($1::text[])"),
    exits: await count(
      "select count(*)::int as n from sejour where finess = any($1::text[]) and date_sortie is not null",
    ),
    main: await count(`select count(*)::int as n from ${MAIN_TABLE[kind]} where finess = any($1::text[])`),
    statuses,
    reports: reports.sort((a, b) => (a.date < b.date ? -1 : 1)),
  };
}

/** The differences between the state before and after (measured in the rolled-back transaction). */
export function dryRunChanges(before: StateOfEssms, after: StateOfEssms, loaded: number): DryRunChanges {
  const newRows = Math.max(0, after.main - before.main);
  const statusNames = [...new Set([...Object.keys(before.statuses), ...Object.keys(after.statuses)])].sort();
  const effect: DryRunChanges["effect"] = [];
  for (const a of after.reports) {
    const b = before.reports.find((x) => x.date === a.date);
    for (const e of a.essms) {
      const be = b?.essms.find((x) => x.finess === e.finess);
      effect.push({
        date: a.date,
        finess: e.finess,
        indicators: Object.fromEntries(
          INDICATOR_IDS.map((id) => [
            id,
            {
              before: be?.indicators[id].rate ?? null,
              after: e.indicators[id].rate,
              met_before: be?.indicators[id].met ?? false,
              met_after: e.indicators[id].met,
            },
          ]),
        ) as DryRunChanges["effect"][number]["indicators"],
      });
    }
  }
  return {
    new_dossiers: after.dossiers - before.dossiers,
    new_sejours: after.sejours - before.sejours,
    new_exits: after.exits - before.exits,
    new_rows: newRows,
    replacing_rows: Math.max(0, loaded - newRows),
    statuses: statusNames.map((s) => ({
      statut: s,
      before: before.statuses[s] ?? 0,
      after: after.statuses[s] ?? 0,
    })),
    effect,
  };
}
