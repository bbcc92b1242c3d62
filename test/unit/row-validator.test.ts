/**
 * The importer's compiled row validator (ADR 0007) applies the kinds' zod cell schemas with a
 * per-column memo. Property: on any rows, it gives exactly what the zod object gives row by row
 * (values, or errors with line, column and message), the row rule included — memo on, memo
 * switched off by a column of unique identifiers (more than the memo's 1 024-lookup trial), short
 * rows and every kind alike.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rejectionMessage } from "../../domain/rejections.ts";
import { mapColumns } from "../../ingest/csv.ts";
import { compileRowValidator, fieldContext, validateRow } from "../../ingest/fields.ts";
import { KIND_DEFS, KINDS } from "../../ingest/kinds.ts";
import { sampled } from "../support/sampling.ts";

/** Cells for a column, mostly valid for its kind of column, with the invalid ones users send. */
const FINESS_CELLS = ["340000017", " 310000039 ", "2A0000017", "340000017", "340000018", "750000010", ""];
const DATE_CELLS = [
  "2025-05-01",
  "01/05/2025",
  "2024-12-31",
  "2025-05-01T23:30:00Z",
  "01/05/2025 08:30",
  "",
  "",
  "31/02/2025",
  "1989-12-31",
  "2027-01-01",
];
const STATUS_CELLS = [
  "ENVOYE",
  "RECU",
  "OK",
  "PLANIFIE",
  "réalisé",
  "ANNULE",
  "en cours",
  "brouillon",
  "envoyé",
  "RECU",
  "échec",
  "supprimé",
  "",
  "inconnu",
];
const TEXT_CELLS = ["u1", " u2 ", "x", "u1", "", "  "];
const cellsFor = (column: string) =>
  column === "finess"
    ? FINESS_CELLS
    : column.startsWith("date")
      ? DATE_CELLS
      : column === "statut" || column === "sens"
        ? STATUS_CELLS
        : TEXT_CELLS;

const fcx = fieldContext("2025-08-01", new Set(["340000017", "310000039", "2A0000017"]));

describe("compiled row validator", () => {
  for (const kind of KINDS) {
    it(`equals the zod object row by row for ${kind}`, () => {
      const def = KIND_DEFS[kind];
      const n = def.columns.length;
      let accepted = 0;
      let compared = 0;
      fc.assert(
        fc.property(
          fc.array(fc.boolean(), { minLength: n, maxLength: n }),
          fc.array(
            fc.tuple(
              ...def.columns.map((c) => fc.constantFrom(...cellsFor(c))),
              fc.integer({ min: Math.max(1, n - 2), max: n }),
            ),
            { minLength: 1100, maxLength: 1300 },
          ),
          (uniqueColumn, rows) => {
            // Columns drawn as unique identifiers (u<row>) most of the time switch their memo off.
            // Rows may be short (a spreadsheet drops trailing empty cells).
            const lines = rows.map((drawn, r) =>
              (drawn.slice(0, drawn[n] as number) as string[]).map((c, i) =>
                uniqueColumn[i] && r % 5 !== 0 ? `u${r}` : c,
              ),
            );
            const { index } = mapColumns(def.columns, def.columns, def.required);
            const schema = def.schema(fcx, null);
            const compiled = compileRowValidator(schema, def.columns, index, def.rowCheck);
            lines.forEach((fields, r) => {
              const line = r + 2;
              const got = compiled(fields, line);
              const ref = validateRow(schema, def.columns, index, fields, line);
              if (!ref.ok) {
                expect(got).toEqual({ ok: false, errors: ref.errors });
                return;
              }
              const value = ref.value as Record<string, unknown>;
              const rule = def.rowCheck?.((c) => value[c]) ?? null;
              if (rule) {
                expect(got).toEqual({
                  ok: false,
                  errors: [
                    {
                      line,
                      column: rule.column,
                      message: rejectionMessage(rule.reason),
                      reason: rule.reason,
                    },
                  ],
                });
                return;
              }
              expect(got).toEqual({ ok: true, values: def.columns.map((c) => value[c]) });
              accepted += 1;
            });
            compared += lines.length;
          },
        ),
        { numRuns: sampled({ quick: 4, full: 12 }), endOnFailure: true },
      );
      // Accepted and rejected rows both occurred, so both paths were compared.
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(compared);
    });
  }
});
