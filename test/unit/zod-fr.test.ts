/**
 * zod's own messages in the forms' French (domain/zod-fr.ts): each issue zod raises without a
 * message of the schema, said without the value received; the schema's own message still wins.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import "../../domain/zod-fr.ts";

const said = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? null : r.error.issues.map((i) => i.message);
};

describe("zod's messages in French", () => {
  it("names the type expected, in the forms' words", () => {
    expect(said(z.string(), 42)).toEqual(["texte attendu"]);
    expect(said(z.number(), "douze")).toEqual(["nombre attendu"]);
    expect(said(z.boolean(), "oui")).toEqual(["oui ou non attendu (true ou false)"]);
    expect(said(z.array(z.string()), "a")).toEqual(["liste attendue"]);
    expect(said(z.object({ a: z.string() }), {})).toEqual(["valeur obligatoire manquante"]);
  });
  it("says sizes in characters, elements or bounds, with French digit groups", () => {
    expect(said(z.string().max(4000), "x".repeat(4001))).toEqual(["4\u202f000 caractères au plus"]);
    expect(said(z.string().min(5), "abc")).toEqual(["5 caractères au moins"]);
    expect(said(z.string().min(1), "")).toEqual(["valeur obligatoire"]);
    expect(said(z.array(z.number()).max(2), [1, 2, 3])).toEqual(["2 éléments au plus"]);
    expect(said(z.array(z.number()).min(1), [])).toEqual(["au moins un élément"]);
    expect(said(z.number().int().max(100), 101)).toEqual(["100 au plus"]);
    expect(said(z.number().positive(), 0)).toEqual(["supérieur à 0 attendu"]);
  });
  it("never repeats the value received", () => {
    const secret = "Dupont Marie 1960";
    for (const m of said(z.number(), secret) ?? []) expect(m).not.toContain("Dupont");
    for (const m of said(z.enum(["A", "B"]), secret) ?? []) expect(m).not.toContain("Dupont");
  });
  it("leaves a schema's own message first", () => {
    expect(said(z.string().min(5, "description de 5 caractères au moins"), "abc")).toEqual([
      "description de 5 caractères au moins",
    ]);
  });
});
