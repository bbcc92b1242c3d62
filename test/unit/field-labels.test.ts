/**
 * Every field a person or a client may send has a French label (domain/field-labels.ts): the API's
 * validation answers say it in `detail` and the dashboard shows it, never the raw name (issue « The
 * ARS's desk and the team's week » §1).
 */

import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { CONTRACTS } from "../../api/contract.ts";
import { FIELD_LABELS, fieldLabel, fieldMessage } from "../../domain/field-labels.ts";
import { actionPatchSchema, actionSchema, decisionSchema, proposalSchema } from "../../domain/inputs.ts";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The path of every field of a schema, nested objects included ("from_worklist.date"). */
function fieldPaths(schema: z.ZodType, prefix = ""): string[] {
  const d = defOf(schema);
  if (d.type === "object" && d.shape)
    return Object.entries(d.shape).flatMap(([k, v]) => {
      const path = prefix ? `${prefix}.${k}` : k;
      return [path, ...fieldPaths(v, path)];
    });
  const inner = d.innerType ?? d.in ?? d.element ?? d.getter?.();
  if (inner) return fieldPaths(inner, prefix);
  return (d.options ?? []).flatMap((o) => fieldPaths(o, prefix));
}

describe("field labels", () => {
  const schemas: [string, z.ZodType][] = [
    ...Object.values(CONTRACTS).flatMap((c) =>
      (["body", "query"] as const).flatMap((part) => {
        const s = (c as { body?: z.ZodType; query?: z.ZodType })[part];
        return s ? [[`${c.name} (${part})`, s] as [string, z.ZodType]] : [];
      }),
    ),
    ["proposalSchema", proposalSchema],
    ["decisionSchema", decisionSchema],
    ["actionSchema", actionSchema],
    ["actionPatchSchema", actionPatchSchema],
  ];

  it("label every field of every contract's body and query, and every input of domain/inputs.ts", () => {
    const missing = schemas.flatMap(([where, s]) =>
      fieldPaths(s)
        .filter((p) => fieldLabel(p) === "Champ")
        .map((p) => `${where} : ${p}`),
    );
    expect(missing).toEqual([]);
    // the walk did find the fields
    expect(fieldPaths(actionSchema)).toContain("from_worklist.date");
    expect(schemas.flatMap(([, s]) => fieldPaths(s)).length).toBeGreaterThan(30);
  });

  it("are French words written for a person (capitalised, no code's underscore)", () => {
    for (const [name, label] of Object.entries(FIELD_LABELS)) {
      expect(label, name).toMatch(/^[A-ZÉ][a-zàâçéèêëîïôûù'’ ()A-Z-]+$/);
      expect(label, name).not.toMatch(/_/);
    }
  });

  it("name a field by its path, nested or in a list, and an unknown one « Champ »", () => {
    expect(fieldLabel("comment")).toBe("Commentaire");
    expect(fieldLabel("from_worklist.date")).toBe("Date de la liste de dossiers");
    expect(fieldLabel("lignes.3.nombre")).toBe("Nombre de personnes");
    expect(fieldLabel("body")).toBe("Formulaire");
    expect(fieldLabel("inconnu_x")).toBe("Champ");
    expect(fieldMessage("comment", "un commentaire est obligatoire pour refuser ou révoquer")).toBe(
      "Commentaire : un commentaire est obligatoire pour refuser ou révoquer",
    );
  });
});
