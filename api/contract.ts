/**
 * The API's contract: for each endpoint of api/endpoints.ts, who may call it and the zod schemas
 * of its parameters, query, body and answer. The server mounts its handlers on it (api/routes/),
 * the OpenAPI document is generated from it, and the dashboard's typed client (dashboard/src/
 * api.ts) takes its types from it: a path and its types are written once.
 */
import { z } from "zod";
import {
  actionPatchSchema,
  actionSchema,
  decisionSchema,
  proposalPatchSchema,
  proposalSchema,
  withdrawalSchema,
} from "../domain/inputs.ts";
import type { Role } from "../domain/roles.ts";
import { EXPORT_KIND } from "../domain/vocabulary.ts";
import { ENDPOINTS, type EndpointName } from "./endpoints.ts";
import * as S from "./schemas.ts";

/** What a contract declares beside its method and path. */
export interface ContractSpec {
  summary: string;
  tag: string;
  /** answers without authentication */
  public?: boolean;
  /** roles allowed (after the scope check): others get 403 */
  roles?: readonly Role[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** the body is multipart (a file in the field `file`), streamed by the handler itself */
  multipart?: boolean;
  /** the largest JSON body read (bytes; default 1 MB) */
  maxBodyBytes?: number;
  /** JSON answer schema, or the media type of a file answer */
  response: z.ZodType | { media: string };
  /** the status of a success (default 200) */
  status?: 200 | 201 | 202 | 204;
  /**
   * computes figures or builds or reads a file: each user may have only a few in progress at once
   * (MAX_CONCURRENT_PER_USER, 429 beyond); an answer kept ready is not counted
   */
  expensive?: boolean;
}

const file = z.object({ file: z.instanceof(File, { message: "fichier attendu dans le champ file" }) });
/** `{ name: positive id }` as a path's parameters. */
const positive = <const N extends string>(name: N) =>
  z.object({ [name]: S.positiveId } as Record<N, typeof S.positiveId>);

/** The body of POST /api/session (64 KB at most, read before anything else). */
export const loginBody = z.object({
  email: z.string().trim().min(1, "adresse électronique obligatoire").max(320),
  password: z.string().min(1, "mot de passe obligatoire").max(1024),
});
export const LOGIN_BODY_MAX = 64 * 1024;

function contract<const N extends EndpointName, const C extends ContractSpec>(name: N, spec: C) {
  return { name, ...ENDPOINTS[name], ...spec };
}

export const CONTRACTS = {
  login: contract("login", {
    summary:
      "ouvre une session (cookie HttpOnly) ; cinq essais par compte et vingt par adresse par quart d'heure",
    tag: "identité",
    public: true,
    body: loginBody,
    maxBodyBytes: LOGIN_BODY_MAX,
    response: S.me,
  }),
  logout: contract("logout", {
    summary: "ferme la session",
    tag: "identité",
    response: z.null(),
    status: 204,
  }),
  me: contract("me", {
    summary: "l'utilisateur connecté, son rôle et son périmètre",
    tag: "identité",
    response: S.me,
  }),
  authMethods: contract("authMethods", {
    summary: "les façons de se connecter à ce service : mot de passe, et ProConnect quand il est configuré",
    tag: "identité",
    public: true,
    response: z.object({ password: z.boolean(), proconnect: z.boolean() }),
  }),
  invite: contract("invite", {
    summary:
      "invite une personne (administrateur : tous ; ARS : ARS, chefs de projet et AMOA de sa région ; chef de projet : chefs de projet et AMOA de ses grappes) ; un lien à usage unique valable 7 jours part par courriel",
    tag: "comptes",
    roles: ["admin", "ars", "chef_projet"],
    body: S.invitationInput,
    status: 201,
    response: S.invitationCreated,
  }),
  revokeInvitation: contract("revokeInvitation", {
    summary: "révoque une invitation encore ouverte (qui l'a faite, ou un administrateur)",
    tag: "comptes",
    roles: ["admin", "ars", "chef_projet"],
    params: z.object({ id: S.positiveId }),
    status: 204,
    response: z.null(),
  }),
  acceptInvitation: contract("acceptInvitation", {
    summary:
      "accepte une invitation : le compte est créé avec son mot de passe et la session ouverte ; lien utilisé, révoqué ou expiré : 410",
    tag: "comptes",
    public: true,
    body: S.tokenPassword,
    status: 201,
    response: S.me,
  }),
  users: contract("users", {
    summary:
      "les comptes de mon périmètre (administrateur : tous ; ARS : sa région ; chef de projet : ses grappes), invitations ouvertes comprises",
    tag: "comptes",
    roles: ["admin", "ars", "chef_projet"],
    response: S.users,
  }),
  updateUser: contract("updateUser", {
    summary:
      "change le rôle, la région, les grappes d'un compte de mon périmètre, ou le désactive (sessions et jetons fermés aussitôt)",
    tag: "comptes",
    roles: ["admin", "ars", "chef_projet"],
    params: z.object({ id: S.positiveId }),
    body: S.userPatch,
    response: S.userView,
  }),
  passwordReset: contract("passwordReset", {
    summary: "demande un lien de réinitialisation du mot de passe (1 heure) : 202 quelle que soit l'adresse",
    tag: "comptes",
    public: true,
    body: S.resetRequest,
    status: 202,
    response: z.object({ detail: z.string() }),
  }),
  passwordResetConfirm: contract("passwordResetConfirm", {
    summary:
      "choisit un nouveau mot de passe avec le lien reçu ; toutes les sessions du compte sont fermées ; lien utilisé ou expiré : 410",
    tag: "comptes",
    public: true,
    body: S.tokenPassword,
    status: 204,
    response: z.null(),
  }),
  notifications: contract("notifications", {
    summary: "mes notifications, les plus récentes d'abord (100 au plus), et combien sont non lues",
    tag: "notifications",
    response: S.notifications,
  }),
  notificationRead: contract("notificationRead", {
    summary: "marque une de mes notifications comme lue",
    tag: "notifications",
    params: z.object({ id: S.positiveId }),
    response: z.null(),
    status: 204,
  }),
  preferences: contract("preferences", {
    summary:
      "mes préférences de courriel, par type de notification : aussitôt, résumé du jour, résumé de la semaine ou pas de courriel",
    tag: "notifications",
    response: S.preferences,
  }),
  setPreferences: contract("setPreferences", {
    summary: "change mes préférences de courriel (les types absents gardent la leur)",
    tag: "notifications",
    body: S.preferencesInput,
    response: S.preferences,
  }),
  outbox: contract("outbox", {
    summary: "la file des courriels (administrateur) : en attente, envoyés, abandonnés avec leur motif",
    tag: "notifications",
    roles: ["admin"],
    response: S.outbox,
  }),
  grappes: contract("grappes", {
    expensive: true,
    summary:
      "les grappes du périmètre à la date D (défaut : aujourd'hui) : verdicts, solde dû ou à risque, blocages, date cible, dernier import",
    tag: "grappes",
    query: S.dateQuery,
    response: z.array(S.grappeSummary),
  }),
  grappe: contract("grappe", {
    expensive: true,
    summary:
      "une grappe à la date D (défaut : aujourd'hui) : taux mutualisés, éligibilité, solde, ESSMS et blocages",
    tag: "grappes",
    params: S.grappeParam,
    query: S.dateQuery,
    response: S.grappeDetail,
  }),
  committee: contract("committee", {
    expensive: true,
    summary:
      "la page du comité de pilotage à la date D (défaut : aujourd'hui) : verdict, date cible, tendance depuis un mois et un trimestre, blocages, actions, décision en vigueur",
    tag: "grappes",
    params: S.grappeParam,
    query: S.dateQuery,
    response: S.committee,
  }),
  milestones: contract("milestones", {
    summary:
      "le calendrier d'une grappe : ses cinq jalons prévus et réalisés avec leur retard, l'échéance de l'instruction (18 ou 9 mois), la bascule de chaque ESSMS, les procès-verbaux (R-C1 à R-C4)",
    tag: "calendrier",
    params: S.grappeParam,
    response: S.milestones,
  }),
  setMilestone: contract("setMilestone", {
    summary:
      "fixe la date prévue d'un jalon (chef de projet : lancement, VA, VSR, fin) ou enregistre la date réelle d'une VA ou d'une VSR (ARS de la région) ; une date vide l'efface",
    tag: "calendrier",
    roles: ["chef_projet", "ars"],
    params: S.milestoneParam,
    body: S.milestoneInput,
    response: S.milestone,
  }),
  addPv: contract("addPv", {
    expensive: true,
    summary:
      "joint le procès-verbal d'une VA ou d'une VSR (ARS de la région ; multipart, champ file ; un PDF vérifié à son contenu comme les pièces justificatives, 5 Mo au plus)",
    tag: "calendrier",
    roles: ["ars"],
    multipart: true,
    params: S.milestoneParam,
    body: file,
    status: 201,
    response: S.milestonePv.omit({ uploaded_by: true, uploaded_at: true }),
  }),
  calendarIcs: contract("calendarIcs", {
    summary:
      "le calendrier de la grappe au format iCalendar (RFC 5545) : jalons prévus et réalisés, échéance, bascules prévues des ESSMS, en journées entières",
    tag: "calendrier",
    params: S.grappeParam,
    response: { media: "text/calendar" },
  }),
  createFeed: contract("createFeed", {
    summary:
      "crée (ou remplace) mon abonnement d'agenda : une adresse secrète /ics/{secret}.ics qui donne les jalons de toutes mes grappes, sans session",
    tag: "calendrier",
    status: 201,
    response: S.calendarFeed,
  }),
  revokeFeed: contract("revokeFeed", {
    summary: "révoque mon abonnement d'agenda : son adresse répond 404",
    tag: "calendrier",
    response: z.null(),
    status: 204,
  }),
  committeePdf: contract("committeePdf", {
    expensive: true,
    summary: "la page du comité de pilotage à la date D, en PDF (une page A4)",
    tag: "grappes",
    params: S.grappeParam,
    query: S.dateQuery,
    response: { media: "application/pdf" },
  }),
  reportCsv: contract("reportCsv", {
    expensive: true,
    summary: "le rapport de la grappe à la date D, en CSV pour Excel (BOM, ;, virgule décimale)",
    tag: "exports",
    params: S.grappeParam,
    query: S.dateQuery,
    response: { media: "text/csv" },
  }),
  reportXlsx: contract("reportXlsx", {
    expensive: true,
    summary: "le rapport de la grappe à la date D, en classeur Excel",
    tag: "exports",
    params: S.grappeParam,
    query: S.dateQuery,
    response: { media: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
  }),
  snapshots: contract("snapshots", {
    summary: "les rapports figés de la grappe",
    tag: "figés",
    params: S.grappeParam,
    response: z.array(S.snapshotSummary),
  }),
  freeze: contract("freeze", {
    expensive: true,
    summary: "fige le rapport de la grappe à la date D (ARS de la région)",
    tag: "figés",
    roles: ["ars"],
    params: S.grappeParam,
    body: z.object({ date: S.day }),
    status: 201,
    response: S.snapshot,
  }),
  snapshot: contract("snapshot", {
    summary: "un rapport figé, avec les imports sur lesquels il repose et la décision de l'ARS",
    tag: "figés",
    params: S.grappeParam.extend({ snapshot_id: S.positiveId }),
    response: S.snapshot,
  }),
  soldeDecision: contract("soldeDecision", {
    summary: "enregistre la décision de l'ARS sur le solde, sur un rapport figé",
    tag: "figés",
    roles: ["ars"],
    params: S.grappeParam.extend({ snapshot_id: S.positiveId }),
    body: S.soldeDecisionInput,
    status: 201,
    response: S.soldeDecision,
  }),
  decisions: contract("decisions", {
    summary:
      "l'historique des décisions sur le solde de la grappe (qui, quand, quoi, sur quel figé, pourquoi), celle en vigueur marquée",
    tag: "figés",
    params: S.grappeParam,
    response: z.array(S.soldeDecision),
  }),
  synthesisPdf: contract("synthesisPdf", {
    expensive: true,
    summary:
      "la synthèse d'une page (A4, PDF) d'un rapport figé : verdicts, montant, blocages, ESSMS, aménagements, décision",
    tag: "figés",
    params: S.grappeParam,
    query: S.snapshotQuery,
    response: { media: "application/pdf" },
  }),
  evidence: contract("evidence", {
    expensive: true,
    summary:
      "le dossier de preuve (ZIP envoyé en flux) d'un rapport figé : chiffres, règles, imports, aménagements et pièces, actions, décision, journal",
    tag: "figés",
    params: S.grappeParam,
    query: S.snapshotQuery,
    response: { media: "application/zip" },
  }),
  essms: contract("essms", {
    expensive: true,
    summary: "un ESSMS à la date D : indicateurs, file active et sa source, fraîcheur des données",
    tag: "ESSMS",
    params: S.finessParam,
    query: S.dateQuery,
    response: S.essmsDetail,
  }),
  history: contract("history", {
    expensive: true,
    summary: "historique mensuel (premier jour de chaque mois) et prévision par indicateur",
    tag: "ESSMS",
    params: S.finessParam,
    query: z
      .object({ from: S.day.optional(), to: S.day.optional() })
      .refine((q) => !q.from || !q.to || q.from <= q.to, {
        path: ["from"],
        message: "le début de la période doit précéder sa fin",
      }),
    response: S.history,
  }),
  worklist: contract("worklist", {
    expensive: true,
    summary:
      "les dossiers comptés au dénominateur et pas au numérateur d'un indicateur à la date D, avec leur motif, et ceux que la fenêtre du mois prochain fera sortir (422 pour la MS Santé)",
    tag: "ESSMS",
    params: S.finessParam,
    query: S.worklistQuery,
    response: S.worklist,
  }),
  worklistMatch: contract("worklistMatch", {
    expensive: true,
    summary:
      "ré-identifie la liste avec un export du DUI de l'ESSMS (multipart, champ file ; format=csv pour un CSV) : calculé en mémoire, rien n'est conservé ni journalisé du fichier (chef de projet, AMOA)",
    tag: "ESSMS",
    roles: ["chef_projet", "amoa"],
    multipart: true,
    params: S.finessParam,
    query: S.worklistQuery.extend({
      format: z.enum(["json", "csv"]).optional(),
      /** the ESSMS's vendor profile (profiles/NAME.json) when its export is not canonical */
      profile: z.string().max(64).optional(),
    }),
    body: file,
    response: S.worklistMatch,
  }),
  essmsPage: contract("essmsPage", {
    expensive: true,
    summary:
      "tout ce que montre la page d'un ESSMS en un appel : l'ESSMS à D, son historique et sa prévision, sa grappe (nom, date cible), ses aménagements et leurs effets, ses actions correctives, ses 10 derniers imports (la part de cet ESSMS dans chaque fichier)",
    tag: "ESSMS",
    params: S.finessParam,
    query: S.dateQuery,
    response: S.essmsPage,
  }),
  adjustments: contract("adjustments", {
    expensive: true,
    summary: "les aménagements du périmètre (ou d'une grappe) avec l'historique de leurs décisions",
    tag: "aménagements",
    query: z.object({ grappe_id: z.string().min(1).optional(), date: S.day.optional() }),
    response: z.array(S.adjustmentInView),
  }),
  propose: contract("propose", {
    expensive: true,
    summary: "propose un aménagement (chef de projet, AMOA de la grappe)",
    tag: "aménagements",
    roles: ["chef_projet", "amoa"],
    body: proposalSchema,
    status: 201,
    response: S.adjustment,
  }),
  effect: contract("effect", {
    expensive: true,
    summary:
      "ce qu'approuver cet aménagement changerait (ESSMS et grappe, à la date D et à la date cible), sans rien enregistrer ; 422 s'il dépasse le dénominateur",
    tag: "aménagements",
    query: S.dateQuery,
    body: proposalSchema,
    response: S.adjustmentFigures,
  }),
  decide: contract("decide", {
    expensive: true,
    summary: "approuve, refuse (commentaire obligatoire) ou révoque un aménagement (ARS de la région)",
    tag: "aménagements",
    roles: ["ars"],
    params: positive("amenagement_id"),
    body: decisionSchema,
    response: S.adjustment,
  }),
  withdraw: contract("withdraw", {
    summary:
      "retire un aménagement proposé, avant la décision de l'ARS (son équipe : chef de projet, AMOA) : il passe au statut « retiré »",
    tag: "aménagements",
    roles: ["chef_projet", "amoa"],
    params: positive("amenagement_id"),
    body: withdrawalSchema,
    response: S.adjustment,
  }),
  correct: contract("correct", {
    summary:
      "corrige un aménagement proposé, avant la décision de l'ARS (nombre, catégorie, justification, dates) ; 422 s'il dépasse le dénominateur",
    tag: "aménagements",
    roles: ["chef_projet", "amoa"],
    expensive: true,
    params: positive("amenagement_id"),
    body: proposalPatchSchema,
    response: S.adjustment,
  }),
  addPiece: contract("addPiece", {
    expensive: true,
    summary:
      "joint une pièce justificative à un aménagement proposé (multipart, champ file ; PDF, PNG ou JPEG reconnus au contenu ; 5 Mo au plus ; un PDF à contenu actif ou caché est refusé, une image est ré-encodée ; quota par grappe PROOF_QUOTA_MB)",
    tag: "aménagements",
    roles: ["chef_projet", "amoa"],
    multipart: true,
    params: positive("amenagement_id"),
    body: file,
    status: 201,
    response: S.piece,
  }),
  piece: contract("piece", {
    summary: "une pièce justificative d'un aménagement (téléchargement)",
    tag: "aménagements",
    params: z.object({ amenagement_id: S.positiveId, piece_id: S.positiveId }),
    response: { media: "application/octet-stream" },
  }),
  accessJournal: contract("accessJournal", {
    summary:
      "le journal des accès aux données personnelles : qui a ouvert la liste des dossiers d'un ESSMS, retrouvé des identifiants, téléchargé un dossier de preuve ou une pièce ; du plus récent au plus ancien, 10 000 au plus (format=csv : le même en CSV) ; administrateur (tout), ARS (sa région)",
    tag: "données personnelles",
    roles: ["admin", "ars"],
    query: S.accessJournalQuery,
    response: S.accessJournal,
  }),
  privacy: contract("privacy", {
    summary:
      "les coordonnées du responsable du traitement et de son délégué à la protection des données (page « Données personnelles », sans connexion)",
    tag: "données personnelles",
    public: true,
    response: S.privacyContacts,
  }),
  actions: contract("actions", {
    expensive: true,
    summary:
      "les actions correctives du périmètre (ou d'une grappe), avec la valeur de l'indicateur à leur création et aujourd'hui",
    tag: "actions correctives",
    query: z.object({ grappe_id: z.string().min(1).optional() }),
    response: z.array(S.action),
  }),
  createAction: contract("createAction", {
    expensive: true,
    summary: "crée une action corrective (AMOA, chef de projet)",
    tag: "actions correctives",
    roles: ["chef_projet", "amoa"],
    body: actionSchema,
    status: 201,
    response: S.action,
  }),
  updateAction: contract("updateAction", {
    summary: "met à jour une action corrective (statut, responsable, échéance, description)",
    tag: "actions correctives",
    roles: ["chef_projet", "amoa"],
    params: positive("action_id"),
    body: actionPatchSchema,
    response: S.action,
  }),
  imports: contract("imports", {
    summary: "les imports du périmètre (les plus récents d'abord)",
    tag: "imports",
    response: z.array(S.importRow),
  }),
  importDetail: contract("importDetail", {
    summary: "un import et ses lignes rejetées (ligne, colonne, motif ; jamais les valeurs)",
    tag: "imports",
    params: positive("import_id"),
    response: S.importDetail,
  }),
  upload: contract("upload", {
    expensive: true,
    summary:
      "envoie un export DUI (multipart, champ file) : reçu sur disque, il est importé en arrière-plan comme par la commande ingest (202 ; suivre GET /imports/{id}) ; avec dry_run=true, vérifié seulement : même lecture, mêmes rejets, ce que l'import changerait (200), rien n'est enregistré",
    tag: "imports",
    roles: ["chef_projet", "amoa", "admin"],
    multipart: true,
    body: file,
    query: z.object({
      dry_run: z.enum(["true", "false"], { message: "valeur attendue : true ou false" }).optional(),
      /** the export's kind when neither its name nor its header tells it (exports.md §1) */
      kind: z
        .enum(EXPORT_KIND.values, { message: `type d'export attendu : ${EXPORT_KIND.values.join(", ")}` })
        .optional(),
    }),
    status: 202,
    response: z.union([S.uploadAccepted, S.dryRunResult]),
  }),
} as const satisfies { [N in EndpointName]: { name: N } & ContractSpec };

export type Contracts = typeof CONTRACTS;
export type Contract = Contracts[EndpointName];
