/**
 * The access journal (issue 35 §4, ADR 0027): the administrator reads all of it, the ARS the
 * accesses to its region's grappes; a grappe asked for outside one's scope answers 404 as an
 * unknown one. JSON, or the same entries as a CSV (`format=csv`).
 */
import { accessJournalCsv } from "../../domain/access-journal.ts";
import { addDays, todayParis } from "../../domain/dates.ts";
import { listAccess } from "../../sql/access-journal.ts";
import { attachment } from "../exports.ts";
import { handle, type RouteDef } from "../registry.ts";
import { inScope, notFound } from "./scope.ts";

/** Entries one answer holds at most (the newest). */
export const ACCESS_JOURNAL_MAX = 10_000;

export const ACCESS_JOURNAL: RouteDef[] = [
  // Public: a notice about personal data is read before signing in too.
  handle("privacy", {
    handler: async ({ deps }) =>
      deps.privacyContacts ?? { controller_name: null, controller_contact: null, dpo_contact: null },
  }),
  handle("accessJournal", {
    handler: async ({ deps, scope, query, c }) => {
      if (query.grappe_id !== undefined && !inScope(scope, query.grappe_id))
        notFound(`grappe ${query.grappe_id}`);
      const grappes =
        query.grappe_id !== undefined ? [query.grappe_id] : scope.all ? null : [...scope.grappes];
      const from = query.from ?? "1990-01-01";
      const to = addDays(query.to ?? todayParis(), 1);
      const rows = await listAccess(deps.db, { grappes, from, to, limit: ACCESS_JOURNAL_MAX + 1 });
      const entries = rows.slice(0, ACCESS_JOURNAL_MAX);
      if (query.format === "csv")
        return c.body(accessJournalCsv(entries), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": attachment(`journal_des_acces_${todayParis()}.csv`),
          "cache-control": "no-store",
        });
      return { entries, truncated: rows.length > ACCESS_JOURNAL_MAX };
    },
  }),
];
