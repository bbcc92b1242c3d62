/** Zod schemas of what the API sends and receives (OpenAPI is generated from them). */

import { z } from "zod";
import { ACCESS_KINDS } from "../domain/access-journal.ts";
import { DEADLINE_REASONS, MILESTONE_CODES } from "../domain/calendar.ts";
import { PATH_ACTIONS, type PathAction } from "../domain/coupled-path.ts";
import { isDay } from "../domain/dates.ts";
import { INDICATOR_IDS } from "../domain/indicators.ts";
import { INGEST_WARNING_KINDS } from "../domain/ingest-warnings.ts";
import { MAIL_MODES, NOTIFICATION_KINDS } from "../domain/notifications.ts";
import { ROLES } from "../domain/roles.ts";
import { ACTION_STATUS, AMENAGEMENT_ETAT, IMPORT_STATUS, PIECE_MEDIA_TYPE } from "../domain/vocabulary.ts";

export { day } from "../domain/inputs.ts";

import { day } from "../domain/inputs.ts";

export const finessParam = z.object({ finess: z.string().regex(/^(\d{9}|2[AB]\d{7})$/, "FINESS invalide") });
export const grappeParam = z.object({ grappe_id: z.string().min(1).max(100) });
export const positiveId = z.coerce
  .number()
  .int()
  .positive("identifiant : entier positif attendu")
  .max(2 ** 53 - 1);
export const dateQuery = z.object({ date: day.optional() });
/** `?snapshot=ID`: a frozen report's number, said in French whatever is wrong with it. */
export const snapshotQuery = z.object({
  snapshot: z.coerce
    .number({ message: "numéro de figé attendu" })
    .int("numéro de figé attendu")
    .positive("numéro de figé attendu")
    .max(2 ** 53 - 1, "numéro de figé attendu"),
});

const indicatorMap = <T extends z.ZodType>(t: T) =>
  z.object(
    Object.fromEntries(INDICATOR_IDS.map((id) => [id, t])) as Record<(typeof INDICATOR_IDS)[number], T>,
  );

export const indicatorResult = z.object({
  numerator: z.number().int(),
  denominator: z.number().int(),
  adjustment: z.number().int(),
  rate: z.number().nullable(),
  target: z.number(),
  mandatory: z.boolean(),
  met: z.boolean(),
  gap: z.number().int().nullable(),
});

export const essmsReport = z.object({
  finess: z.string(),
  grappe_id: z.string(),
  file_active: z.object({ value: z.number().int(), source: z.enum(["computed", "declared"]) }),
  indicators: indicatorMap(indicatorResult),
  optional: z.object({ eprescription: z.number().int(), eparcours: z.number().int() }),
  meets_all_mandatory: z.boolean(),
});

export const grappeIndicator = z.object({
  numerator: z.number().int(),
  denominator: z.number().int(),
  rate: z.number().nullable(),
  target: z.number(),
  mandatory: z.boolean(),
  met: z.boolean(),
  gap: z.number().int().nullable(),
  essms_meeting: z.number().int(),
  mean_rate: z.number().nullable(),
});

export const grappeReport = z.object({
  grappe_id: z.string(),
  indicators: indicatorMap(grappeIndicator),
  essms_total: z.number().int(),
  essms_meeting_all: z.number().int(),
  eligible: z.boolean(),
  eligible_pooled: z.boolean(),
  subsidy: z.object({ total_eur: z.number(), solde_eur: z.number() }),
});

/** A calendar day the server writes (a window may start before 1990 when D is early in 1990). */
const calendarDay = z.string().refine(isDay, "date attendue au format AAAA-MM-JJ");
export const windowSchema = z.object({ start: calendarDay, end: calendarDay });

export const report = z.object({
  measurement_date: day,
  window: windowSchema,
  rules_version: z.string(),
  essms: z.array(essmsReport),
  grappes: z.array(grappeReport),
});

export const me = z.object({
  email: z.string(),
  role: z.enum(ROLES),
  region: z.string().optional(),
  grappes: z.array(z.string()).optional(),
});

export const blocker = z.object({
  finess: z.string(),
  raison_sociale: z.string(),
  indicator: z.enum(INDICATOR_IDS),
  rate: z.number().nullable(),
  target: z.number(),
  gap: z.number().int().nullable(),
});

export const grappeSummary = z.object({
  grappe_id: z.string(),
  grappe_nom: z.string(),
  region: z.string(),
  date_vsr: day.nullable(),
  target_date: day.nullable(),
  days_to_target: z.number().int().nullable(),
  measurement_date: day,
  status: z.enum(["eligible", "non_eligible", "aucune_donnee"]),
  essms_total: z.number().int(),
  essms_meeting_all: z.number().int(),
  eligible: z.boolean(),
  eligible_pooled: z.boolean(),
  solde_eur: z.number(),
  /** "du" when eligible, "a_risque" otherwise, null without data */
  solde_status: z.enum(["du", "a_risque"]).nullable(),
  subsidy: z.object({ total_eur: z.number(), solde_eur: z.number() }),
  blocking_essms: z.number().int(),
  dossiers_missing: z.number().int(),
  messages_missing: z.number().int(),
  last_import_at: z.string().nullable(),
  indicators: indicatorMap(grappeIndicator),
  /** the calendar on today (issue 33, R-C2…R-C4): « en retard » of the region table */
  calendar: z.object({
    en_retard: z.boolean(),
    late_milestones: z.array(z.enum(MILESTONE_CODES)),
    max_days_late: z.number().int(),
    late_essms: z.number().int(),
    deadline: day.nullable(),
    deadline_exceeded: z.boolean(),
    /** why (R-C2): the planned end after it, today after it without a decision, a decision after it */
    deadline_reasons: z.array(z.enum(DEADLINE_REASONS)),
  }),
});

const forecastStatus = z.enum(["atteinte", "atteignable", "non_atteignable", "donnees_insuffisantes"]);

/** R-G5: counts of actions (traces, PP, agenda events in dossiers; DMP to feed; MSS messages). */
const pathActions = z.object(
  Object.fromEntries(PATH_ACTIONS.map((k) => [k, z.number().int()])) as Record<PathAction, z.ZodNumber>,
);

/** R-G5 for one ESSMS: the dossiers to touch, the actions, and whether every target is reached. */
const pathStep = z.object({
  /** the count of distinct dossiers to touch */
  dossiers: z.number().int(),
  actions: pathActions,
  reachable: z.boolean(),
  /** the mandatory targets the path cannot meet with the dossiers known */
  unreachable: z.array(z.enum(INDICATOR_IDS)),
  /** dossiers missing beyond the candidates (0 when a set suffices; null when no number does) */
  missing: z.number().int().nullable(),
});

/** The grappe at a glance (issue 14 §4): the verdict that governs, the amount, the blockers. */
export const synthesis = z.object({
  status: z.enum(["eligible", "non_eligible", "aucune_donnee"]),
  verdict: z.string(),
  eligible: z.boolean().nullable(),
  eligible_pooled: z.boolean().nullable(),
  pooled_label: z.string(),
  amount: z.object({
    solde_eur: z.number(),
    status: z.enum(["du", "a_risque"]).nullable(),
    label: z.string(),
  }),
  blockers: z.array(
    blocker.extend({
      projection: z
        .object({
          status: forecastStatus,
          reached_by_target_date: z.boolean().nullable(),
          message: z.string(),
        })
        .nullable(),
    }),
  ),
  blockers_total: z.object({
    essms: z.number().int(),
    dossiers: z.number().int(),
    messages: z.number().int(),
  }),
  target_date: day.nullable(),
  days_left: z.number().int().nullable(),
  days_left_label: z.string().nullable(),
  projection: z.object({ eligible_at_target_date: z.boolean().nullable(), label: z.string() }).nullable(),
  data_warning: z.string().nullable(),
  /** the shortest path to the solde (issue 15 §5, R-G5 per ESSMS), when the grappe is not eligible */
  cheapest: z
    .object({
      strict: z.array(pathStep.extend({ finess: z.string() })),
      strict_total: z.object({
        essms: z.number().int(),
        dossiers: z.number().int(),
        actions: pathActions,
        unreachable_essms: z.number().int(),
        missing: z.number().int(),
      }),
      pooled: z.array(
        z.object({
          indicator: z.enum(INDICATOR_IDS),
          gap: z.number().int(),
          from: z.array(z.object({ finess: z.string(), count: z.number().int() })),
        }),
      ),
      pooled_total: z.object({ dossiers: z.number().int(), messages: z.number().int() }),
    })
    .nullable(),
});

const completenessKind = z.enum(["dossiers", "projets_personnalises", "agenda", "mss", "dmp"]);

/** What is missing (issue 16 §3): per ESSMS × export kind × month, a loaded export covers it. */
export const completeness = z.object({
  months: z.array(calendarDay),
  stale_days: z.number().int(),
  essms: z.array(
    z.object({
      finess: z.string(),
      kinds: z.array(
        z.object({
          kind: completenessKind,
          optional: z.boolean(),
          months: z.array(z.boolean()),
          last_import: z.string().nullable(),
          stale: z.boolean(),
        }),
      ),
    }),
  ),
  gaps_in_window: z.array(
    z.object({ finess: z.string(), kind: completenessKind, months: z.array(calendarDay) }),
  ),
});

export const grappeDetail = z
  .object({ synthesis })
  .extend(grappeReport.shape)
  .extend({
    completeness: completeness.nullable(),
    /** the ARS's solde decision in force (issue 30 §3), shown to every role in scope; null before any */
    decision_in_force: z.lazy(() => decisionInForce).nullable(),
    grappe_nom: z.string(),
    region: z.string(),
    date_vsr: day.nullable(),
    target_date: day.nullable(),
    days_to_target: z.number().int().nullable(),
    measurement_date: day,
    window: windowSchema,
    rules_version: z.string(),
    essms: z.array(
      essmsReport.extend({
        raison_sociale: z.string(),
        categorie: z.string().nullable(),
        /** the same facts on the 1st of next month: what the window's move alone would do (issue 15) */
        next_month: z
          .object({
            date: day,
            indicators: indicatorMap(z.object({ rate: z.number().nullable(), met: z.boolean() })),
          })
          .nullable(),
      }),
    ),
    blockers: z.array(blocker),
    /** the grappe measured at its target date (R-T3) with the data known today; null without VSR */
    at_target_date: z
      .object({
        measurement_date: day,
        /** the target date is still to come: a projection without new data, not a measure (issue 30 §6) */
        projection: z.boolean(),
        eligible: z.boolean(),
        eligible_pooled: z.boolean(),
        essms_meeting_all: z.number().int(),
        indicators: indicatorMap(grappeIndicator),
      })
      .nullable(),
  });

export const freshness = z.object({
  kind: z.string(),
  import_id: z.number().int(),
  file_name: z.string(),
  imported_at: z.string(),
  date_min: day.nullable(),
  date_max: day.nullable(),
  rows_loaded: z.number().int(),
});

export const essmsDetail = essmsReport.extend({
  raison_sociale: z.string(),
  categorie: z.string().nullable(),
  measurement_date: day,
  window: windowSchema,
  rules_version: z.string(),
  freshness: z.array(freshness),
  completeness: z.lazy(() => completeness).optional(),
});

export const forecast = z.object({
  method: z.string(),
  points_used: z.number().int(),
  slope_per_month: z.number().nullable(),
  status: forecastStatus,
  reached_month: day.nullable(),
  target_date: day.nullable(),
  reached_by_target_date: z.boolean().nullable(),
  gap: z.number().int().nullable(),
  months_left: z.number().int().nullable(),
  needed_per_month: z.number().int().nullable(),
  message: z.string(),
});

export const history = z.object({
  finess: z.string(),
  from: day,
  to: day,
  points: z.array(
    z.object({
      date: day,
      file_active: essmsReport.shape.file_active,
      indicators: indicatorMap(indicatorResult),
    }),
  ),
  forecast: indicatorMap(forecast),
});

const decisionEntry = z.object({
  decision: z.string(),
  comment: z.string().nullable(),
  decided_by: z.string(),
  decided_at: z.string(),
});

export const adjustment = z.object({
  amenagement_id: z.number().int(),
  finess: z.string(),
  grappe_id: z.string(),
  indicateur: z.enum(INDICATOR_IDS),
  nombre: z.number().int(),
  categorie: z.string(),
  justification: z.string().nullable(),
  date_debut: day,
  date_fin: day.nullable(),
  statut: z.enum(AMENAGEMENT_ETAT.values),
  source: z.string(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  decisions: z.array(decisionEntry),
  pieces: z.array(z.lazy(() => piece)),
  raison_sociale: z.string(),
  essms_categorie: z.string().nullable(),
  essms_categorie_libelle: z.string().nullable(),
});

/**
 * A proof file of an adjustment (its bytes at GET …/pieces/{piece_id}): the stored file (an image
 * re-encoded at upload) and the file as it was sent (ADR 0022).
 */
export const piece = z.object({
  piece_id: z.number().int(),
  amenagement_id: z.number().int(),
  media_type: z.enum(PIECE_MEDIA_TYPE.values),
  size_bytes: z.number().int(),
  sha256: z.string(),
  original_size_bytes: z.number().int(),
  original_sha256: z.string(),
  uploaded_by: z.string(),
  uploaded_at: z.string(),
});

const beforeAfter = <T extends z.ZodType>(t: T) => z.object({ before: t, after: t });

/** What approving an adjustment would change at one date (issue 14 §1). */
export const adjustmentEffect = z.object({
  measurement_date: day,
  applies: z.boolean(),
  essms: z.object({
    denominator: beforeAfter(z.number().int()),
    rate: beforeAfter(z.number().nullable()),
    met: beforeAfter(z.boolean()),
    meets_all_mandatory: beforeAfter(z.boolean()),
  }),
  grappe: z.object({
    rate: beforeAfter(z.number().nullable()),
    met: beforeAfter(z.boolean()),
    eligible: beforeAfter(z.boolean()),
    eligible_pooled: beforeAfter(z.boolean()),
  }),
});

export const adjustmentFigures = z.object({
  measurement_date: day,
  raw_denominator: z.number().int().nullable(),
  current_rate: z.number().nullable(),
  effect: z
    .object({ at_measurement_date: adjustmentEffect.nullable(), at_target_date: adjustmentEffect.nullable() })
    .nullable(),
});

export const adjustmentInView = adjustment.extend(adjustmentFigures.shape);

const indicatorValue = z.object({
  date: day,
  rate: z.number().nullable(),
  numerator: z.number().int(),
  denominator: z.number().int(),
});

export const action = z.object({
  action_id: z.number().int(),
  finess: z.string(),
  grappe_id: z.string(),
  indicateur: z.enum(INDICATOR_IDS),
  description: z.string(),
  owner: z.string().nullable(),
  due_date: day.nullable(),
  status: z.enum(ACTION_STATUS.values),
  value_at_creation: indicatorValue.nullable(),
  value_now: indicatorValue.nullable().optional(),
  /** made from a worklist (issue 15 §4): its size then, and how many are still listed today */
  worklist: z
    .object({ measurement_date: day, size: z.number().int(), date_now: day, still_listed: z.number().int() })
    .nullable()
    .optional(),
  created_by: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const importRow = z.object({
  import_id: z.number().int(),
  file_name: z.string(),
  kind: z.string(),
  sha256: z.string(),
  status: z.enum(IMPORT_STATUS.values),
  rows_total: z.number().int(),
  rows_loaded: z.number().int(),
  rows_rejected: z.number().int(),
  message: z.string().nullable(),
  date_min: day.nullable(),
  date_max: day.nullable(),
  source: z.string(),
  imported_by: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  finess: z.array(z.string()),
});

export const rejection = z.object({
  line: z.number().int(),
  column: z.string().nullable(),
  message: z.string(),
  reason: z.string().optional(),
  finess: z.string().nullable().optional(),
});

/** One import with its rejected rows (and, while it runs, the rows read so far). */
export const importDetail = importRow.extend({
  progress: z.object({ rows_read: z.number().int() }).optional(),
  rejections: z.array(rejection),
});

export const uploadAccepted = z.object({
  import_id: z.number().int(),
  file: z.string(),
  bytes: z.number().int(),
  status: z.literal("running"),
});

/** What an import's summary warns about (cli.md `warnings`; domain/ingest-warnings.ts). */
export const ingestWarning = z.object({
  kind: z.enum(INGEST_WARNING_KINDS),
  count: z.number().int(),
  lines: z.array(z.number().int()).optional(),
});

export const ingestEntry = z.object({
  file: z.string(),
  kind: z.string().nullable(),
  status: z.enum(["loaded", "skipped", "refused", "unread"]),
  rows: z.number().int(),
  loaded: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(rejection),
  errors_truncated: z.boolean().optional(),
  message: z.string().optional(),
  import_id: z.number().int().optional(),
  sha256: z.string().optional(),
  already_loaded: z.number().int().optional(),
  warnings: z.array(ingestWarning).optional(),
  /** the required columns by which its kind was told (exports.md §1), when its name did not tell it */
  kind_from_header: z.array(z.string()).optional(),
});

const indicatorShift = z.object({
  before: z.number().nullable(),
  after: z.number().nullable(),
  met_before: z.boolean(),
  met_after: z.boolean(),
});

/** What an import would change (a dry run, issue 16 §2). */
export const dryRunChanges = z.object({
  new_dossiers: z.number().int(),
  new_sejours: z.number().int(),
  new_exits: z.number().int(),
  new_rows: z.number().int(),
  replacing_rows: z.number().int(),
  statuses: z.array(z.object({ statut: z.string(), before: z.number().int(), after: z.number().int() })),
  effect: z.array(z.object({ date: day, finess: z.string(), indicators: indicatorMap(indicatorShift) })),
});

/** A dry run's answer: the import's result as it would be, and what it would change; nothing stored. */
export const dryRunResult = ingestEntry.extend({
  dry_run: z.literal(true),
  changes: dryRunChanges.optional(),
});

export const snapshotImport = z.object({
  import_id: z.number().int(),
  file_name: z.string(),
  kind: z.string(),
  sha256: z.string(),
  rows_loaded: z.number().int(),
  finished_at: z.string().nullable(),
});

export const snapshotSummary = z.object({
  snapshot_id: z.number().int(),
  grappe_id: z.string().nullable(),
  measurement_date: day,
  rules_version: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  eligible: z.boolean().nullable().optional(),
  eligible_pooled: z.boolean().nullable().optional(),
  solde_eur: z.number().nullable().optional(),
  essms_total: z.number().int().nullable().optional(),
  essms_meeting_all: z.number().int().nullable().optional(),
});

export const soldeDecision = z.object({
  decision_id: z.number().int(),
  snapshot_id: z.number().int(),
  grappe_id: z.string(),
  eligible: z.boolean(),
  computed_eligible: z.boolean().nullable(),
  comment: z.string().nullable(),
  decided_by: z.string(),
  decided_at: z.string(),
  replaces_decision_id: z.number().int().nullable(),
  replacement_reason: z.string().nullable(),
  measurement_date: day,
  in_force: z.boolean(),
  before_target: z.boolean(),
  data_incomplete: z.boolean(),
});

/** The decision in force as the grappe page shows it: the decision and the solde of its frozen report. */
export const decisionInForce = soldeDecision.extend({ solde_eur: z.number().nullable() });

/** The ARS's decision on the solde (issue 14 §3): a departure from the verdict is motivated. */
export const soldeDecisionInput = z.object({
  eligible: z.boolean({ message: "décision attendue : éligible (true) ou non (false)" }),
  comment: z.string().trim().max(4000).nullable().default(null),
  replaces_decision_id: positiveId.nullable().default(null),
  replacement_reason: z.string().trim().max(4000).nullable().default(null),
});

/** What makes a decision on a frozen report early or fragile (issue 30 §3): then its motive is required. */
export const decisionCaveats = z.object({
  before_target: z.boolean(),
  data_incomplete: z.boolean(),
  target_date: day.nullable(),
});

export const snapshot = snapshotSummary.extend({
  imports: z.array(snapshotImport),
  report,
  decisions: z.array(soldeDecision),
  caveats: decisionCaveats,
  /** what the decision is taken on (issue 14 §3): verdicts, amount, blockers with their gaps */
  synthesis: z.lazy(() => synthesis).optional(),
});

const worklistEntry = z.object({
  ref: z.string(),
  reason: z.string(),
  date_entree: day,
  date_sortie: day.nullable(),
  last_trace: day.nullable(),
  last_fact: z.object({ what: z.string(), date: day.nullable(), status: z.string().nullable() }),
  /** R-G5: what touching this dossier takes; null when it cannot be made active at D */
  actions: z.array(z.enum(PATH_ACTIONS)).nullable(),
  /** one of the dossiers of the ESSMS's path (R-G5) */
  in_path: z.boolean(),
});

/** api.md: `GET /api/essms/{finess}/worklist?date=D&indicator=I` (issue 15). */
export const worklist = z.object({
  indicator: z.enum(["dossiers_actifs", "projet_personnalise", "agenda", "dmp"]),
  measurement_date: day,
  finess: z.string(),
  count: z.number().int(),
  numerator: z.number().int(),
  raw_denominator: z.number().int(),
  file_active_source: z.enum(["computed", "declared"]),
  unlisted: z.number().int(),
  /** the ESSMS's path (R-G5) and « N suffisent parmi M »: in_list of among */
  path: pathStep.extend({ in_list: z.number().int(), among: z.number().int() }),
  /** by fewest actions needed, then by reference; the path's dossiers marked */
  dossiers: z.array(worklistEntry),
  next_month: z.object({
    date: day,
    count: z.number().int(),
    rate: z.number().nullable(),
    met: z.boolean(),
    dossiers: z.array(worklistEntry.pick({ ref: true, last_fact: true })),
  }),
});

export const worklistQuery = z.object({
  date: day.optional(),
  indicator: z.enum(INDICATOR_IDS, { message: `indicateur attendu : ${INDICATOR_IDS.join(", ")}` }),
});

/**
 * The re-identified worklist: the DUI's local ids of the file sent that are on the list, and the
 * local id of the séjour each one shows (null when the file carries no `sejour_id` for it).
 */
export const worklistMatch = z.object({
  indicator: z.string(),
  measurement_date: day,
  finess: z.string(),
  count: z.number().int(),
  matched: z.number().int(),
  dossiers: z.array(worklistEntry.extend({ usager_id: z.string(), sejour_id: z.string().nullable() })),
});

/** GET /api/essms/{finess}/page: the ESSMS page in one call (issue 18 §2). */
export const essmsPage = z.object({
  essms: z.lazy(() => essmsDetail),
  history: z.lazy(() => history),
  grappe: z.object({ grappe_id: z.string(), grappe_nom: z.string(), target_date: day.nullable() }),
  adjustments: z.array(z.lazy(() => adjustmentInView)),
  actions: z.array(z.lazy(() => action)),
  imports: z.array(z.lazy(() => importRow)),
});

const committeeAction = z.object({
  action_id: z.number().int(),
  finess: z.string(),
  raison_sociale: z.string(),
  indicator_label: z.string(),
  description: z.string(),
  owner: z.string().nullable(),
  due_date: day.nullable(),
});
const countsEarlier = z.object({
  now: z.number().int(),
  earlier: z.array(z.object({ date: day, count: z.number().int().nullable() })),
});

/** The steering committee's page (issue 30 §9, domain/committee.ts): one printable page. */
export const committee = z.object({
  grappe_id: z.string(),
  grappe_nom: z.string(),
  region: z.string(),
  region_label: z.string(),
  measurement_date: day,
  target_date: day.nullable(),
  days_left_label: z.string().nullable(),
  verdict: z.string(),
  eligible: z.boolean().nullable(),
  amount_label: z.string(),
  projection_label: z.string().nullable(),
  indicators: z.array(
    z.object({
      indicator: z.enum(INDICATOR_IDS),
      label: z.string(),
      target: z.number(),
      mandatory: z.boolean(),
      rate: z.number().nullable(),
      met: z.boolean(),
      earlier: z.array(
        z.object({
          date: day,
          rate: z.number().nullable(),
          delta_points: z.number().nullable(),
          label: z.string(),
        }),
      ),
    }),
  ),
  essms_total: z.number().int(),
  essms_meeting_all: countsEarlier,
  blocker_count: countsEarlier,
  blockers: z.array(
    z.object({
      finess: z.string(),
      raison_sociale: z.string(),
      indicator: z.enum(INDICATOR_IDS),
      indicator_label: z.string(),
      rate: z.number().nullable(),
      target: z.number(),
      gap: z.number().int().nullable(),
      gap_label: z.string(),
    }),
  ),
  blockers_more: z.number().int(),
  blockers_total: z.object({
    essms: z.number().int(),
    dossiers: z.number().int(),
    messages: z.number().int(),
  }),
  actions: z.object({
    overdue: z.array(committeeAction),
    due_this_week: z.array(committeeAction),
    open: z.number().int(),
    done_since_last_month: z.number().int(),
    more: z.object({ overdue: z.number().int(), due_this_week: z.number().int() }),
  }),
  decision: z
    .object({
      decision_id: z.number().int(),
      eligible: z.boolean(),
      decided_by: z.string(),
      decided_at: z.string(),
      measurement_date: day,
      comment: z.string().nullable(),
      caveats: z.string().nullable(),
    })
    .nullable(),
});

const notificationKind = z.enum(NOTIFICATION_KINDS);
const mailMode = z.enum(MAIL_MODES, { message: `mode attendu : ${MAIL_MODES.join(", ")}` });

/** The bell's list (api.md): newest first, the user's own, and how many are unread. */
export const notifications = z.object({
  notifications: z.array(
    z.object({
      id: z.number().int(),
      kind: notificationKind,
      created_at: z.string(),
      read: z.boolean(),
      title: z.string(),
      link: z.string(),
    }),
  ),
  unread: z.number().int(),
});

/** A person's mail preferences: each kind's mode (api.md). */
export const preferences = z.object(
  Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, mailMode])) as Record<
    (typeof NOTIFICATION_KINDS)[number],
    typeof mailMode
  >,
);
export const preferencesInput = preferences.partial().strict();

/** The outbox as the admin sees it. */
export const outbox = z.object({
  pending: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  troubled: z.array(
    z.object({
      mail_id: z.number().int(),
      to_address: z.string(),
      subject: z.string(),
      state: z.string(),
      attempts: z.number().int(),
      last_error: z.string().nullable(),
      next_attempt_at: z.string(),
    }),
  ),
});

/** GET /api/access-journal (issue 35 §4): who accessed personal data, newest first. */
export const accessJournalQuery = z
  .object({
    grappe_id: z.string().min(1).max(100).optional(),
    from: day.optional(),
    to: day.optional(),
    format: z.enum(["json", "csv"]).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, {
    path: ["from"],
    message: "le début de la période doit précéder sa fin",
  });
export const accessEntry = z.object({
  access_id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  role: z.string(),
  kind: z.enum(ACCESS_KINDS),
  grappe_id: z.string(),
  finess: z.string().nullable(),
  target: z.string().nullable(),
  matched: z.number().int().nullable(),
});
export const accessJournal = z.object({
  entries: z.array(accessEntry),
  /** more entries matched than the answer holds (the newest are given): narrow the period */
  truncated: z.boolean(),
});

/** GET /api/privacy (public): the controller's and the DPO's contacts, from configuration. */
export const privacyContacts = z.object({
  controller_name: z.string().nullable(),
  controller_contact: z.string().nullable(),
  dpo_contact: z.string().nullable(),
});

const roleEnum = z.enum(ROLES, { message: `rôle attendu : ${ROLES.join(", ")}` });
/** An invitation (api.md): the future account's address, role and scope. */
export const invitationInput = z.object({
  email: z.string().trim().max(320),
  role: roleEnum,
  region: z.string().trim().max(10).nullable().optional(),
  grappes: z.array(z.string().trim().min(1).max(100)).max(500).optional(),
});
export const invitationCreated = z.object({ invitation_id: z.number().int(), link: z.string().optional() });
/** A link's token and the password chosen (invitation, reset). */
export const tokenPassword = z.object({
  token: z.string().min(10, "lien incomplet").max(200, "lien invalide"),
  password: z.string().max(1024, "mot de passe trop long (1 024 caractères au plus)"),
});
export const resetRequest = z.object({
  email: z.string().trim().min(1, "adresse électronique obligatoire").max(320),
});
export const userView = z.object({
  id: z.number().int(),
  email: z.string(),
  role: roleEnum,
  region: z.string().nullable(),
  grappes: z.array(z.string()),
  last_login_at: z.string().nullable(),
  status: z.enum(["active", "disabled", "invited"]),
  invitation_id: z.number().int().optional(),
});
export const users = z.object({ users: z.array(userView) });
export const userPatch = z
  .object({
    role: roleEnum.optional(),
    region: z.string().trim().max(10).nullable().optional(),
    grappes: z.array(z.string().trim().min(1).max(100)).max(500).optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, "rien à changer");
// ---------------------------------------------------------------------------------------------
// The calendar of a grappe (issue 33, indicators.md §7)

export const milestoneCode = z.enum(MILESTONE_CODES, {
  message: `jalon inconnu : ${MILESTONE_CODES.join(", ")}`,
});
export const milestoneParam = grappeParam.extend({ code: milestoneCode });

/** One milestone (R-C1) with its lateness (R-C3). */
export const milestone = z.object({
  code: milestoneCode,
  planned: day.nullable(),
  actual: day.nullable(),
  late: z.boolean(),
  days_late: z.number().int(),
  planned_from_planned_vsr: z.boolean().optional(),
});

/** PATCH …/milestones/{code}: a date, or null to clear it; at least one of the two. */
export const milestoneInput = z
  .object({ planned: day.nullable().optional(), actual: day.nullable().optional() })
  .strict();

export const milestonePv = z.object({
  pv_id: z.number().int(),
  code: z.enum(["va", "vsr"]),
  media_type: z.string(),
  size_bytes: z.number().int(),
  sha256: z.string(),
  uploaded_by: z.string(),
  uploaded_at: z.string(),
});

/** GET /api/grappes/{grappe_id}/milestones (api.md; R-C1…R-C4). */
export const milestones = z.object({
  grappe_id: z.string(),
  today: day,
  milestones: z.array(milestone),
  deadline: z.object({
    date: day.nullable(),
    months: z.number().int(),
    exceeded: z.boolean(),
    reasons: z.array(z.enum(DEADLINE_REASONS)),
  }),
  essms: z.array(
    z.object({
      finess: z.string(),
      raison_sociale: z.string(),
      vague: z.string().nullable(),
      planned_golive: day.nullable(),
      actual_golive: day.nullable(),
      late: z.boolean(),
      days_late: z.number().int(),
    }),
  ),
  summary: z.object({
    late_milestones: z.array(milestoneCode),
    max_days_late: z.number().int(),
    late_essms: z.number().int(),
    deadline_exceeded: z.boolean(),
    deadline_reasons: z.array(z.enum(DEADLINE_REASONS)),
    en_retard: z.boolean(),
  }),
  pv: z.array(milestonePv),
});

export const calendarFeed = z.object({ url: z.string() });
