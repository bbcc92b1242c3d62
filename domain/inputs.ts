/**
 * What a person may send the product to write, as zod schemas (validated at the API's boundary,
 * then handed to the write verbs of services/): a day, an adjustment proposal and its decision
 * (R-A1, R-A2: a comment is required to refuse or revoke), a corrective action and its change.
 * Messages in French, naming what is expected.
 */
import { z } from "zod";
import { isDay, isMeasurementDay } from "./dates.ts";
import { INDICATOR_IDS, type IndicatorId } from "./indicators.ts";
import { MAX_ADJUSTED_PERSONS } from "./rejections.ts";
import { ACTION_STATUS, AMENAGEMENT_CATEGORIE, AMENAGEMENT_DECISION } from "./vocabulary.ts";

/** A calendar day `YYYY-MM-DD` that the product computes: 1990-01-01 … 2100-12-31. */
export const day = z.string().superRefine((v, ctx) => {
  if (!isDay(v))
    ctx.addIssue({ code: "custom", message: "date attendue au format AAAA-MM-JJ (date calendaire valide)" });
  else if (!isMeasurementDay(v))
    ctx.addIssue({ code: "custom", message: "date attendue entre le 01/01/1990 et le 31/12/2100" });
});

export const CATEGORIES = AMENAGEMENT_CATEGORIE.values;
export const ACTION_STATUSES = ACTION_STATUS.values;

/** The terms of a proposal its team may correct before the ARS decides (issue 30 §7). */
const proposalTerms = {
  nombre: z
    .number()
    .int("nombre entier attendu")
    .positive("nombre de personnes positif attendu")
    .max(MAX_ADJUSTED_PERSONS, `${MAX_ADJUSTED_PERSONS.toLocaleString("fr-FR")} personnes au plus`),
  categorie: z.enum(CATEGORIES, { message: `catégorie inconnue : ${CATEGORIES.join(", ")}` }),
  justification: z.string().trim().min(10, "justification obligatoire (10 caractères au moins)").max(4000),
  date_debut: day,
  date_fin: day.nullable(),
};

export const proposalSchema = z
  .object({
    finess: z.string().trim().min(1),
    indicateur: z.enum(INDICATOR_IDS as unknown as [IndicatorId, ...IndicatorId[]], {
      message: `indicateur inconnu : ${INDICATOR_IDS.join(", ")}`,
    }),
    ...proposalTerms,
    date_fin: proposalTerms.date_fin.default(null),
  })
  .refine((a) => a.date_fin === null || a.date_fin >= a.date_debut, {
    path: ["date_fin"],
    message: "la date de fin précède la date de début",
  });
export type Proposal = z.output<typeof proposalSchema>;

/** A correction of a proposal: the terms that change (at least one); its ESSMS and indicator stay. */
export const proposalPatchSchema = z
  .object(proposalTerms)
  .partial()
  .refine((p) => Object.keys(p).length > 0, "rien à corriger");
export type ProposalPatch = z.output<typeof proposalPatchSchema>;

/** Withdrawing a proposal (its team, before the decision): why, optionally. */
export const withdrawalSchema = z.object({
  comment: z.string().trim().max(4000).nullable().default(null),
});

export const decisionSchema = z
  .object({
    decision: z.enum(AMENAGEMENT_DECISION.values, {
      message: `décision attendue : ${AMENAGEMENT_DECISION.values.join(", ")}`,
    }),
    comment: z.string().trim().max(4000).nullable().default(null),
  })
  .refine((d) => d.decision === "APPROUVE" || (d.comment !== null && d.comment.length > 0), {
    path: ["comment"],
    message: "un commentaire est obligatoire pour refuser ou révoquer",
  });
export type Decision = z.output<typeof decisionSchema>;

export const actionSchema = z.object({
  finess: z.string().trim().min(1),
  indicateur: z.enum(INDICATOR_IDS as unknown as [IndicatorId, ...IndicatorId[]], {
    message: `indicateur inconnu : ${INDICATOR_IDS.join(", ")}`,
  }),
  description: z.string().trim().min(5, "description de 5 caractères au moins").max(4000),
  owner: z.string().trim().max(200).nullable().default(null),
  due_date: day.nullable().default(null),
  status: z.enum(ACTION_STATUSES).default("A_FAIRE"),
  /** an action on the worklist of this ESSMS × indicator at that date (issue 15 §4) */
  from_worklist: z.object({ date: day }).nullable().default(null),
});
export const actionPatchSchema = z
  .object({
    description: z.string().trim().min(5).max(4000),
    owner: z.string().trim().max(200).nullable(),
    due_date: day.nullable(),
    status: z.enum(ACTION_STATUSES, { message: `statut attendu : ${ACTION_STATUSES.join(", ")}` }),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, "rien à modifier");

export type ActionInput = z.output<typeof actionSchema>;
export type ActionPatch = z.output<typeof actionPatchSchema>;
