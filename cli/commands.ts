/** Command registry: each command validates its arguments and calls one function. */
import type { ParseArgsConfig } from "node:util";
import { startServer } from "../api/server.ts";
import type { Config } from "../config/index.ts";
import { type Db, dbOf } from "../db/index.ts";
import { OPERATOR_ROLE } from "../domain/access-journal.ts";
import { actionsLabel, unreachableText } from "../domain/coupled-path.ts";
import { isMeasurementDay, parisDateTime, todayParis } from "../domain/dates.ts";
import { DomainError, isDomainError } from "../domain/errors.ts";
import { formatRate } from "../domain/french.ts";
import { INDICATOR_IDS, isIndicatorId } from "../domain/indicators.ts";
import { warningMessage } from "../domain/ingest-warnings.ts";
import { reportCsv } from "../domain/report-csv.ts";
import { PURGED_TABLES } from "../domain/retention.ts";
import { actionsText, worklistCsv } from "../domain/worklist.ts";
import { DEMO_USERS, isEmpty, seedDemo } from "../fixtures/seed.ts";
import { rowErrorPlace } from "../ingest/fields.ts";
import { importFinessExtract } from "../ingest/finess-extract.ts";
import { ingestPaths } from "../ingest/ingest.ts";
import { guardSecret } from "../ingest/keying.ts";
import { isKind } from "../ingest/kinds.ts";
import { loadProfile } from "../ingest/profile.ts";
import {
  importAdjustments,
  importFileActive,
  importReferential,
  type ProgrammeResult,
} from "../ingest/programme.ts";
import { resolveSecret } from "../ingest/pseudonym.ts";
import { reidentify } from "../ingest/reidentify.ts";
import type { IngestFileResult } from "../ingest/result.ts";
import { removeProcessTempDir, sweepDeadTempDirs } from "../ingest/temp.ts";
import { runInboxOnce, scheduleWorker, type WorkerRun } from "../ingest/worker.ts";
import { recordAccess } from "../services/access-journal.ts";
import { addUser, createToken, revokeToken, setDisabled } from "../services/accounts.ts";
import { refreshAllActivity } from "../services/activity.ts";
import { type MailSettings, notifyOnce, startNotifier } from "../services/notifications.ts";
import { purgeExpired } from "../services/retention.ts";
import { freezeReport } from "../services/snapshots.ts";
import { listUsers, type Role } from "../sql/identity.ts";
import { failInterruptedImports } from "../sql/imports.ts";
import { outboxStatus } from "../sql/notifications.ts";
import { computeReport } from "../sql/queries.ts";
import { essmsByFiness, essmsNames } from "../sql/resources.ts";
import { readSnapshot } from "../sql/snapshots.ts";
import { worklistDocument } from "../sql/worklist.ts";

/** How mails leave, from the configuration; null without SMTP_URL (in-app notifications only). */
function mailSettings(config: Config, secret: string, port: number): MailSettings | null {
  if (!config.smtpUrl) return null;
  return {
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    publicUrl: config.publicUrl ?? `http://localhost:${port}`,
    secret,
  };
}

/** Bad usage of the command line (exit status 2). */
export function usageError(message: string): DomainError {
  return new DomainError("usage", message);
}

type Values = Record<string, string | boolean | string[] | undefined>;
export interface Command {
  summary: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** runs the command with the configuration parsed once at start-up (config/) */
  run(values: Values, positionals: string[], config: Config): Promise<number>;
}

const json = { json: { type: "boolean" } } as const;

function out(values: Values, doc: unknown, human: string): void {
  if (values.json) process.stdout.write(`${JSON.stringify(doc, null, 1)}\n`);
  else process.stdout.write(`${human}\n`);
}

/** A moment as Paris local time, "01/12/2026 02:00 (heure de Paris)" ("—" without one). */
function parisTime(d: Date | null | undefined): string {
  return d ? `${parisDateTime(d.toISOString())} (heure de Paris)` : "—";
}

function err(message: string): void {
  process.stderr.write(`${message}\n`);
}

export async function withDb<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await dbOf(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * The configured pseudonymisation secret, once the database has recognised it (ADR 0027): a
 * secret other than the one its keys were made with is refused (DomainError, French); the first
 * start after migration 0019 keys the identifiers of rows imported before it, the first after
 * migration 0024 rewrites the MS Santé messages' table (its dropped `destinataire`).
 */
async function guardedSecret(db: Db, config: Config): Promise<string> {
  const secret = resolveSecret(config);
  const g = await guardSecret(db, secret);
  if (g.keyed) {
    const n = Object.values(g.keyed).reduce((a, b) => a + b, 0);
    err(
      `Identifiants DUI des données déjà importées (séjours, projets personnalisés, évènements, messages, documents) : ${n} ligne(s) pseudonymisée(s), tables réécrites.`,
    );
  } else if (g.rewritten.length > 0)
    err(
      `Ce qui n'est plus conservé des données déjà importées (destinataire des messages MS Santé) effacé des fichiers de la base : ${g.rewritten.length} table(s) réécrite(s).`,
    );
  return secret;
}

function onePath(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw usageError(`un seul fichier attendu (${what})`);
  return positionals[0] as string;
}

function describeProgramme(r: ProgrammeResult): string {
  if (r.status === "loaded") {
    const extra = r.summary
      ? ` (${Object.entries(r.summary)
          .map(([k, v]) => `${v} ${k}`)
          .join(", ")})`
      : "";
    return `${r.file} : ${r.loaded} lignes chargées${extra}`;
  }
  const lines = r.errors
    .slice(0, 20)
    .map((e) => `  ligne ${e.line}${e.column ? `, colonne ${e.column}` : ""} : ${e.message}`);
  return [`${r.file} : REFUSÉ — ${r.message}`, ...lines].join("\n");
}

function programmeCommand(
  summary: string,
  what: string,
  fn: (db: Db, path: string) => Promise<ProgrammeResult>,
): Command {
  return {
    summary,
    options: { ...json },
    async run(values, positionals, config) {
      const path = onePath(positionals, what);
      const r = await withDb(config, (db) => fn(db, path));
      if (values.json) out(values, r, "");
      else err(describeProgramme(r));
      return r.status === "loaded" ? 0 : 1;
    },
  };
}

function describeIngest(r: IngestFileResult): string {
  const lignes = (n: number) => (n < 2 ? `${n} ligne` : `${n} lignes`);
  const essai = r.dry_run ? "[essai, rien n'est enregistré] " : "";
  const kind = r.kind ? ` [${r.kind}]` : "";
  const head =
    r.status === "loaded"
      ? `${essai}${r.file} [${r.kind}] : ${r.loaded}/${lignes(r.rows)} ${r.dry_run ? (r.loaded < 2 ? "serait chargée" : "seraient chargées") : r.loaded < 2 ? "chargée" : "chargées"}${r.rejected ? `, ${r.rejected} ${r.rejected < 2 ? "rejetée" : "rejetées"}` : ""}`
      : r.status === "skipped"
        ? `${essai}${r.file}${kind} : ignoré (${r.message})`
        : r.status === "unread"
          ? `${r.file} : ${r.message ?? "fichier non lu"}`
          : `${essai}${r.file}${kind} : REFUSÉ — ${r.message}`;
  const warnings = (r.warnings ?? []).map((w) => `  avertissement : ${warningMessage(w)}`);
  if (r.kind_from_header)
    warnings.unshift(`  type reconnu à son en-tête (colonnes ${r.kind_from_header.join(", ")})`);
  const c = r.changes;
  const changes = c
    ? [
        `  changements : ${c.new_dossiers} nouveau(x) dossier(s), ${c.new_sejours} séjour(s) nouveau(x), ${c.new_exits} sortie(s), ${c.new_rows} ligne(s) nouvelle(s), ${c.replacing_rows} remplaçant une ligne existante`,
        ...c.statuses
          .filter((x) => x.before !== x.after)
          .map((x) => `  statut ${x.statut} : ${x.before} → ${x.after}`),
      ]
    : [];
  const lines = r.errors.slice(0, 10).map((e) => `  ${rowErrorPlace(e)} : ${e.message}`);
  if (r.errors.length > 10) lines.push(`  … ${r.errors.length - 10} autres erreurs`);
  return [head, ...warnings, ...changes, ...lines].join("\n");
}

export const commands: Record<string, Command> = {
  serve: {
    summary: "démarre l'API, le tableau de bord et l'import planifié (npm start)",
    options: { ...json, "no-demo": { type: "boolean" } },
    async run(values, _positionals, config) {
      resolveSecret(config); // refused before anything opens: DATABASE_URL without a secret
      // Temporary files of processes that died (kill -9, out of memory) go now (ingest/temp.ts).
      const swept = sweepDeadTempDirs();
      if (swept > 0) err(`${swept} dossier(s) temporaire(s) laissé(s) par un arrêt brutal : supprimé(s).`);
      const db = await dbOf(config);
      const secret = await guardedSecret(db, config).catch(async (e: unknown) => {
        await db.close();
        throw e;
      });
      if (!values["no-demo"] && config.demo && (await isEmpty(db))) {
        err("Base vide : chargement de la grappe de démonstration…");
        const seeded = await seedDemo(db, config.dataDir, secret);
        err(
          `Démonstration chargée : grappe ${seeded.grappeId}, ${seeded.files} fichiers, ${seeded.rows} lignes.`,
        );
        err("Comptes de DÉMONSTRATION (à ne jamais utiliser en production) :");
        for (const u of seeded.users) err(`  ${u.role.padEnd(12)} ${u.email}  mot de passe : ${u.password}`);
      }
      const interrupted = await failInterruptedImports(db);
      if (interrupted > 0)
        err(
          `${interrupted} import(s) interrompu(s) par un arrêt précédent : marqué(s) en échec, rien n'avait été chargé.`,
        );
      // The demo accounts' passwords are published: while one is active, listen on this machine only.
      const demoActive = (await listUsers(db)).some(
        (u) => !u.disabled && DEMO_USERS.some((d) => d.email === u.email),
      );
      const host = config.host ?? (demoActive ? "127.0.0.1" : "0.0.0.0");
      if (config.host === undefined && demoActive)
        err(
          "Comptes de démonstration actifs : le serveur n'écoute que sur cette machine (127.0.0.1). Désactivez-les (users disable) ou fixez HOST pour l'ouvrir au réseau.",
        );
      const server = await startServer(
        {
          db,
          secret,
          maxUploadBytes: config.maxUploadBytes,
          proofQuotaBytes: config.proofQuotaBytes,
          trustedProxies: config.trustedProxies,
          staleDays: config.staleDays,
          maxConcurrentPerUser: config.maxConcurrentPerUser,
          publicUrl: config.publicUrl,
          mailConfigured: config.smtpUrl !== undefined,
          oidc: config.oidc,
          privacyContacts: config.privacyContacts,
          ...(config.dashboardDir ? { dashboardDir: config.dashboardDir } : {}),
        },
        config.port,
        host,
      );
      err(
        `Serveur prêt : http://localhost:${server.port}/ (écoute ${host}, base ${db.backend === "pg" ? "PostgreSQL" : "embarquée PGlite"})`,
      );
      const worker = scheduleWorker(db, config.ingestCron, { inboxDir: config.inboxDir, secret }, (run) =>
        err(describeRun(run)),
      );
      err(
        `Import planifié : boîte de dépôt ${config.inboxDir}, « ${config.ingestCron} » (prochain passage ${parisTime(worker.nextRun())})`,
      );
      const mail = mailSettings(config, secret, server.port);
      err(
        mail
          ? `Courriels : envoyés par ${new URL(config.smtpUrl as string).host}, liens vers ${mail.publicUrl} (toutes les ${config.notifyIntervalMs / 1000} s ; résumés à 8 h, heure de Paris)`
          : "Courriels désactivés (SMTP_URL absent) : notifications dans l'application seulement.",
      );
      const notifier = startNotifier(
        db,
        {
          intervalMs: config.notifyIntervalMs,
          staleDays: config.staleDays,
          mail,
          retentionMonths: config.retentionMonths,
        },
        (t) => {
          if ("error" in t) err(`Notifications : échec du passage (${t.error}) ; nouvel essai au prochain.`);
          else if (t.failed > 0)
            err(
              `Notifications : ${t.failed} courriel(s) non accepté(s) par le serveur SMTP, nouvel essai plus tard.`,
            );
        },
      );
      const stop = async () => {
        err("Arrêt demandé : les imports en cours ont jusqu'à leur délai pour finir (SHUTDOWN_TIMEOUT_S)…");
        await notifier.stop();
        await worker.stop();
        const imports = await server.close(config.shutdownTimeoutMs);
        if (imports.cancelled > 0)
          err(`${imports.cancelled} import(s) annulé(s) par l'arrêt : marqué(s) en échec, à renvoyer.`);
        await db.close();
        removeProcessTempDir();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      await new Promise(() => {});
      return 0;
    },
  },
  "referential import": programmeCommand(
    "charge les grappes et ESSMS (exports.md §5)",
    "référentiel",
    (db, p) => importReferential(db, p),
  ),
  "adjustments import": programmeCommand(
    "charge les aménagements et leur statut décidé",
    "aménagements",
    (db, p) => importAdjustments(db, p),
  ),
  "file-active import": programmeCommand(
    "charge les files actives déclarées (R-P2)",
    "file active",
    (db, p) => importFileActive(db, p),
  ),
  "finess import": {
    summary:
      "charge l'extraction publique FINESS (etalab, CSV) ou le flux JSON « Structures » de l'ANS (.json, .json.gz) comme table de référence",
    options: { ...json },
    async run(values, positionals, config) {
      const path = onePath(positionals, "extraction FINESS");
      const r = await withDb(config, (db) => importFinessExtract(db, path));
      out(
        values,
        r,
        r.status === "loaded"
          ? `${r.loaded} établissements chargés ; catégories complétées : ${r.filled} ; ESSMS du référentiel absents de l'extraction : ${r.missing_from_extract.length ? r.missing_from_extract.join(", ") : "aucun"} ; fermés : ${r.closed_in_extract.length ? r.closed_in_extract.join(", ") : "aucun"}`
          : `${r.file} : REFUSÉ — ${r.message ?? "extraction illisible"}`,
      );
      return r.status === "loaded" ? 0 : 1;
    },
  },
  ingest: {
    summary:
      "importe des exports DUI (fichiers ou dossiers) [--kind K] [--profile P] [--dry-run : vérifie sans rien enregistrer]",
    options: {
      ...json,
      kind: { type: "string" },
      profile: { type: "string" },
      "dry-run": { type: "boolean" },
    },
    async run(values, positionals, config) {
      if (positionals.length === 0) throw usageError("au moins un fichier ou dossier attendu");
      const kind = values.kind as string | undefined;
      if (kind !== undefined && !isKind(kind)) throw usageError(`--kind inconnu : ${kind}`);
      const profile = values.profile ? loadProfile(values.profile as string) : null;
      // Progress on stderr for people at a terminal (or when asked: CIBLES_PROGRESS=1).
      const tty = process.stderr.isTTY || config.progress;
      const files = await withDb(config, async (db) =>
        ingestPaths(db, positionals, {
          secret: await guardedSecret(db, config),
          kind,
          profile,
          source: "cli",
          actor: config.operator,
          dryRun: values["dry-run"] === true,
          ...(tty
            ? {
                onProgress: (() => {
                  const t0 = Date.now();
                  return (rows: number) =>
                    process.stderr.write(
                      `\r  ${rows} lignes lues, ${Math.round(rows / ((Date.now() - t0) / 1000 || 1))} lignes/s`,
                    );
                })(),
              }
            : {}),
        }),
      );
      if (tty) process.stderr.write("\r\x1b[K");
      for (const f of files) err(describeIngest(f));
      if (values.json) out(values, { files }, "");
      return files.some((f) => f.status === "refused") ? 1 : 0;
    },
  },
  worklist: {
    summary:
      "les dossiers à corriger : --finess F --date AAAA-MM-JJ --indicator I [--match EXPORT] [--json | --csv]",
    options: {
      ...json,
      csv: { type: "boolean" },
      finess: { type: "string" },
      date: { type: "string" },
      indicator: { type: "string" },
      match: { type: "string" },
      profile: { type: "string" },
    },
    async run(values, _positionals, config) {
      const finess = values.finess as string | undefined;
      const d = values.date as string | undefined;
      const indicator = values.indicator as string | undefined;
      if (!finess) throw usageError("--finess obligatoire");
      if (!d || !isMeasurementDay(d))
        throw usageError(
          "--date AAAA-MM-JJ obligatoire (date calendaire valide, du 01/01/1990 au 31/12/2100)",
        );
      if (!indicator || !isIndicatorId(indicator))
        throw usageError(`--indicator attendu : ${INDICATOR_IDS.join(", ")}`);
      const profile = values.profile ? loadProfile(values.profile as string) : null;
      const result = await withDb(config, async (db) => {
        const e = await essmsByFiness(db, finess);
        if (!e) return null;
        const doc = await worklistDocument(db, e, d, indicator);
        const matches = values.match
          ? await reidentify(
              values.match as string,
              e.finess,
              await guardedSecret(db, config),
              { pseudonyms: doc.pseudonyms, sejours: doc.sejours },
              profile,
            )
          : null;
        // The access journal (ADR 0027): the operator at the command line, as the API's users.
        const who = { actor: `cli:${config.operator ?? "inconnu"}`, role: OPERATOR_ROLE };
        const target = `${indicator} ${d}`;
        await recordAccess(db, {
          ...who,
          kind: "worklist",
          grappe_id: e.grappe_id,
          finess: e.finess,
          target,
        });
        if (matches)
          await recordAccess(db, {
            ...who,
            kind: "reidentification",
            grappe_id: e.grappe_id,
            finess: e.finess,
            target,
            matched: matches.length,
          });
        return { doc, matches };
      });
      if (!result) {
        err(`ESSMS inconnu : ${finess}`);
        return 1;
      }
      const { pseudonyms: _inMemoryOnly, sejours: _alsoInMemoryOnly, ...doc } = result.doc;
      const ids = result.matches ? new Map(result.matches.map((m) => [m.ref, m])) : undefined;
      if (values.csv) {
        process.stdout.write(worklistCsv(doc.dossiers, ids));
        return 0;
      }
      const json = ids
        ? {
            ...doc,
            matched: ids.size,
            dossiers: doc.dossiers.map((x) => {
              const local = ids.get(x.ref);
              return local ? { ...x, usager_id: local.usager_id, sejour_id: local.sejour_id } : x;
            }),
          }
        : doc;
      const human = [
        `${doc.finess} — ${doc.indicator} au ${doc.measurement_date} : ${doc.count} dossier(s) au dénominateur sans être au numérateur${doc.unlisted ? ` (+ ${doc.unlisted} de la file active déclarée sans dossier)` : ""}`,
        // R-G5: « N suffisent parmi M », the path's dossiers marked, fewest actions first.
        `Chemin le plus court (R-G5) : ${doc.path.in_list} parmi ${doc.path.among}${doc.path.reachable ? "" : ` ; ${unreachableText(doc.path)}`} ; pour l'ESSMS : ${doc.path.dossiers} dossier(s) à reprendre, ${actionsLabel(doc.path.actions)}`,
        ...doc.dossiers.map(
          (x) =>
            `  ${x.in_path ? "[chemin] " : ""}${ids?.get(x.ref)?.usager_id ?? x.ref}${ids?.get(x.ref)?.sejour_id ? ` (séjour ${ids.get(x.ref)?.sejour_id})` : ""} : ${x.reason} ; à faire : ${actionsText(x.actions)} (${x.last_fact.what} : ${x.last_fact.date ?? "aucun"})`,
        ),
        `Au ${doc.next_month.date}, sans nouveau fait : ${doc.next_month.count} dossier(s) sortiraient du numérateur (taux ${doc.next_month.rate === null ? "—" : `${(Math.round(doc.next_month.rate * 1000) / 10).toLocaleString("fr-FR")} %`}).`,
      ].join("\n");
      out(values, json, human);
      return 0;
    },
  },
  "users add": {
    summary:
      "crée un utilisateur : --email E --role admin|ars|chef_projet|amoa [--region R] [--grappe G]… [--password-stdin] (mot de passe lu sur l'entrée standard, ou CIBLES_PASSWORD sans --password-stdin)",
    options: {
      ...json,
      email: { type: "string" },
      role: { type: "string" },
      region: { type: "string" },
      grappe: { type: "string", multiple: true },
      // cli.md: the password comes from the standard input (never from an argument).
      "password-stdin": { type: "boolean" },
    },
    async run(values, _positionals, config) {
      const fromStdin = values["password-stdin"] === true;
      const password =
        (fromStdin ? undefined : config.cliPassword) ?? (await readStdin()).replace(/\r?\n$/, "");
      const u = await withDb(config, (db) =>
        addUser(db, {
          email: String(values.email ?? ""),
          role: String(values.role ?? "") as Role,
          region: (values.region as string | undefined) ?? null,
          grappes: (values.grappe as string[] | undefined) ?? [],
          password,
        }),
      ).catch(identityError);
      if (!u) return 1;
      out(
        values,
        { email: u.email, role: u.role, region: u.region, grappes: u.grappes },
        `Utilisateur créé : ${u.email} (${u.role})`,
      );
      return 0;
    },
  },
  "users list": {
    summary: "liste les utilisateurs, leur rôle et leur périmètre",
    options: { ...json },
    async run(values, _positionals, config) {
      const users = await withDb(config, (db) => listUsers(db));
      out(
        values,
        users,
        users
          .map(
            (u) =>
              `${u.email.padEnd(36)} ${u.role.padEnd(12)} ${u.region ?? u.grappes.join(",")}${u.disabled ? "  (désactivé)" : ""}`,
          )
          .join("\n") || "aucun utilisateur",
      );
      return 0;
    },
  },
  "users disable": {
    summary: "désactive un utilisateur (sessions fermées, jetons révoqués) : --email E",
    options: { ...json, email: { type: "string" } },
    async run(values, _positionals, config) {
      const email = String(values.email ?? "");
      if (!email) throw usageError("--email obligatoire");
      const ok = await withDb(config, (db) =>
        setDisabled(db, email, true, `cli:${config.operator ?? "inconnu"}`),
      );
      if (!ok) {
        err(`utilisateur inconnu : ${email}`);
        return 1;
      }
      out(values, { email, disabled: true }, `Utilisateur désactivé : ${email}`);
      return 0;
    },
  },
  "tokens create": {
    summary:
      "crée un jeton d'API pour un utilisateur, affiché une seule fois : --email E --name NOM [--expires-days N]",
    options: {
      ...json,
      email: { type: "string" },
      name: { type: "string" },
      "expires-days": { type: "string" },
    },
    async run(values, _positionals, config) {
      const email = String(values.email ?? "");
      if (!email) throw usageError("--email obligatoire");
      const given = values["expires-days"];
      const days = given === undefined ? config.tokenDays.default : Number(given);
      if (!Number.isInteger(days) || days < 1 || days > config.tokenDays.max)
        throw usageError(`--expires-days : un nombre entier de jours, de 1 à ${config.tokenDays.max}`);
      const t = await withDb(config, (db) =>
        createToken(
          db,
          email,
          String(values.name ?? "jeton"),
          { days, maxDays: config.tokenDays.max },
          `cli:${config.operator ?? "inconnu"}`,
        ),
      ).catch(identityError);
      if (!t) return 1;
      out(
        values,
        t,
        `Jeton n° ${t.token_id}, valable jusqu'au ${parisTime(new Date(t.expires_at))} (affiché une seule fois, conservez-le) :\n${t.token}`,
      );
      return 0;
    },
  },
  "tokens revoke": {
    summary: "révoque un jeton d'API : --id N",
    options: { ...json, id: { type: "string" } },
    async run(values, _positionals, config) {
      const id = Number(values.id);
      if (!Number.isSafeInteger(id) || id <= 0) throw usageError("--id N obligatoire");
      const ok = await withDb(config, (db) => revokeToken(db, id));
      if (!ok) {
        err(`jeton inconnu ou déjà révoqué : ${id}`);
        return 1;
      }
      out(values, { token_id: id, revoked: true }, `Jeton n° ${id} révoqué`);
      return 0;
    },
  },
  "notifications send": {
    summary:
      "évalue la journée, compose et envoie les courriels dus (SMTP_URL) ; --once : un seul passage (pour cron et les tests)",
    options: { ...json, once: { type: "boolean" } },
    async run(values, _positionals, config) {
      if (!values.once)
        throw usageError(
          "--once obligatoire (le serveur envoie de lui-même toutes les NOTIFY_INTERVAL_S secondes)",
        );
      const secret = resolveSecret(config);
      const mail = mailSettings(config, secret, config.port);
      if (!mail) err("SMTP_URL absent : notifications évaluées, aucun courriel envoyé.");
      const t = await withDb(config, (db) => notifyOnce(db, { staleDays: config.staleDays, mail }));
      out(
        values,
        t,
        `${t.notifications} notification(s) nouvelle(s), ${t.queued} courriel(s) composé(s), ${t.sent} envoyé(s), ${t.failed} non accepté(s) (nouvel essai plus tard)`,
      );
      return t.failed > 0 ? 1 : 0;
    },
  },
  refresh: {
    summary:
      "--all : recalcule l'activité mensuelle des usagers (usager_month) depuis tous les faits, pour réparer ; les imports la tiennent à jour d'eux-mêmes",
    options: { ...json, all: { type: "boolean" } },
    async run(values, _positionals, config) {
      if (!values.all)
        throw usageError(
          "--all obligatoire : le recalcul porte sur toute la base (les imports tiennent l'activité à jour d'eux-mêmes)",
        );
      const t0 = performance.now();
      const r = await withDb(config, (db) =>
        refreshAllActivity(db, `cli:${config.operator ?? "exploitant"}`),
      );
      const seconds = Math.round(performance.now() - t0) / 1000;
      out(
        values,
        { ...r, seconds },
        `Activité mensuelle recalculée depuis les faits : ${r.rows} ligne(s), ${r.corrected} corrigée(s), en ${seconds} s.`,
      );
      return 0;
    },
  },
  purge: {
    summary:
      "applique la durée de conservation (RETENTION_MONTHS après la décision de solde en vigueur) : supprime les faits, lignes rejetées et lignes d'import des ESSMS concernés ; --dry-run : compte seulement",
    options: { ...json, "dry-run": { type: "boolean" } },
    async run(values, _positionals, config) {
      const dryRun = values["dry-run"] === true;
      const r = await withDb(config, (db) =>
        purgeExpired(db, {
          months: config.retentionMonths,
          today: todayParis(),
          dryRun,
          actor: `cli:${config.operator ?? "exploitant"}`,
        }),
      );
      out(
        values,
        { dry_run: dryRun, months: config.retentionMonths, grappes: r },
        r.length === 0
          ? `Rien à purger (conservation : ${config.retentionMonths} mois après la décision de solde en vigueur).`
          : r
              .map(
                (g) =>
                  `${dryRun ? "À purger" : "Purgé"} : grappe ${g.grappe_id} (décision du ${g.decided_on}, conservation échue le ${g.ends_on}), ${g.essms} ESSMS, ${g.total} lignes — ${Object.entries(
                    g.rows,
                  )
                    .filter(([, n]) => n > 0)
                    .map(([t, n]) => `${n} ${PURGED_TABLES[t as keyof typeof PURGED_TABLES]}`)
                    .join(", ")}`,
              )
              .join("\n"),
      );
      return 0;
    },
  },
  "notifications status": {
    summary: "l'état de la file des courriels : en attente, envoyés, abandonnés (avec leur motif)",
    options: { ...json },
    async run(values, _positionals, config) {
      const st = await withDb(config, (db) => outboxStatus(db));
      out(
        values,
        st,
        [
          `Courriels : ${st.pending} en attente, ${st.sent} envoyé(s), ${st.failed} abandonné(s)`,
          ...st.troubled.map(
            (m) =>
              `  n° ${m.mail_id} à ${m.to_address} : ${m.state === "failed" ? "abandonné" : "nouvel essai"} après ${m.attempts} essai(s) — ${m.last_error ?? "?"}`,
          ),
        ].join("\n"),
      );
      return 0;
    },
  },
  worker: {
    summary: "import planifié de la boîte de dépôt INBOX_DIR (INGEST_CRON) ; --once : un seul passage",
    options: { ...json, once: { type: "boolean" } },
    async run(values, _positionals, config) {
      if (values.once) {
        const run = await withDb(config, async (db) =>
          runInboxOnce(db, { inboxDir: config.inboxDir, secret: await guardedSecret(db, config) }),
        );
        out(values, run, describeRun(run));
        return run.outcome === "ok" ? 0 : 1;
      }
      resolveSecret(config);
      const db = await dbOf(config);
      const opts = {
        inboxDir: config.inboxDir,
        secret: await guardedSecret(db, config).catch(async (e: unknown) => {
          await db.close();
          throw e;
        }),
      };
      const worker = scheduleWorker(db, config.ingestCron, opts, (run) =>
        values.json ? out(values, run, "") : err(describeRun(run)),
      );
      err(
        `Import planifié : ${config.inboxDir}, « ${config.ingestCron} », prochain passage ${parisTime(worker.nextRun())}`,
      );
      const stop = async () => {
        await worker.stop();
        await db.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      await new Promise(() => {});
      return 0;
    },
  },
  report: {
    summary:
      "indicateurs à la date D : --date AAAA-MM-JJ [--grappe ID] [--json | --csv] ; --freeze : les fige ; --snapshot ID : relit un figé",
    options: {
      ...json,
      csv: { type: "boolean" },
      date: { type: "string" },
      grappe: { type: "string" },
      freeze: { type: "boolean" },
      snapshot: { type: "string" },
    },
    async run(values, _positionals, config) {
      if (values.snapshot !== undefined) {
        const id = Number(values.snapshot);
        if (!Number.isSafeInteger(id) || id <= 0) throw usageError("--snapshot attend un numéro de figé");
        if (values.date || values.freeze || values.grappe)
          throw usageError("--snapshot ne se combine pas avec --date, --grappe ni --freeze");
        const snap = await withDb(config, (db) => readSnapshot(db, id));
        if (!snap) {
          err(`figé inconnu : ${id}`);
          return 1;
        }
        if (values.csv)
          process.stdout.write(reportCsv(snap.report, await withDb(config, (db) => essmsNames(db, null))));
        else if (values.json) process.stdout.write(`${JSON.stringify(snap, null, 1)}\n`);
        else
          process.stdout.write(
            `Figé n° ${snap.snapshot_id} du ${snap.created_at} par ${snap.created_by}, règles ${snap.rules_version}, ${snap.imports.length} imports\n${humanReport(snap.report)}`,
          );
        return 0;
      }
      const d = values.date as string | undefined;
      if (!d || !isMeasurementDay(d))
        throw usageError(
          "--date AAAA-MM-JJ obligatoire (date calendaire valide, du 01/01/1990 au 31/12/2100)",
        );
      const grappe = (values.grappe as string | undefined) ?? null;
      if (values.freeze) {
        const who = `cli:${config.operator ?? "inconnu"}`;
        const snap = await withDb(config, (db) => freezeReport(db, d, grappe, who)).catch((e: unknown) => {
          if (isDomainError(e, "not_found")) return null;
          throw e;
        });
        if (!snap) {
          err(`grappe inconnue : ${grappe}`);
          return 1;
        }
        err(
          `Figé n° ${snap.snapshot_id} enregistré (${snap.imports.length} imports référencés) : relire avec report --snapshot ${snap.snapshot_id}`,
        );
        if (values.csv)
          process.stdout.write(reportCsv(snap.report, await withDb(config, (db) => essmsNames(db, null))));
        else if (values.json) process.stdout.write(`${JSON.stringify(snap, null, 1)}\n`);
        else process.stdout.write(humanReport(snap.report));
        return 0;
      }
      const report = await withDb(config, (db) => computeReport(db, d, grappe));
      if (grappe !== null && report.grappes.length === 0) {
        err(`grappe inconnue : ${grappe}`);
        return 1;
      }
      if (values.csv)
        process.stdout.write(reportCsv(report, await withDb(config, (db) => essmsNames(db, null))));
      else if (values.json) process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
      else process.stdout.write(humanReport(report));
      return 0;
    },
  },
};

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw usageError("mot de passe attendu sur l'entrée standard (ou CIBLES_PASSWORD)");
  let s = "";
  // Bounded: a password is at most 1 024 characters; beyond 4 KB the input is not one.
  for await (const chunk of process.stdin) {
    s += chunk;
    if (s.length > 4096)
      throw usageError("mot de passe trop long sur l'entrée standard (1 024 caractères au plus)");
  }
  return s;
}

function identityError(e: unknown): null {
  if (isDomainError(e, "validation", "conflict", "not_found")) {
    err(`Refusé : ${e.message}`);
    return null;
  }
  throw e;
}

function describeRun(run: WorkerRun): string {
  if (run.outcome === "busy") return `Import planifié : ${run.message}`;
  const head = `Import planifié n° ${run.run_id} : ${run.files.length} fichier(s), résultat ${run.outcome}${run.message ? ` — ${run.message}` : ""}`;
  const lines = run.files.map(
    (f) =>
      `  ${f.file} : ${f.status}${f.moved_to ? ` → ${f.moved_to}` : ""}${f.status === "loaded" ? ` (${f.loaded}/${f.rows} lignes)` : ""}${f.message ? ` — ${f.message}` : ""}`,
  );
  return [head, ...lines].join("\n");
}

function pct(x: number | null): string {
  return formatRate(x, "—");
}

function humanReport(report: Awaited<ReturnType<typeof computeReport>>): string {
  const lines = [
    `Mesure au ${report.measurement_date} (fenêtre ${report.window.start} → ${report.window.end} exclu)`,
  ];
  for (const g of report.grappes) {
    lines.push(
      `\nGrappe ${g.grappe_id} : ${g.essms_meeting_all}/${g.essms_total} ESSMS atteignent toutes leurs cibles — éligible : ${g.eligible ? "oui" : "non"} (mutualisé : ${g.eligible_pooled ? "oui" : "non"}) — solde ${g.subsidy.solde_eur} €`,
    );
    for (const e of report.essms.filter((x) => x.grappe_id === g.grappe_id)) {
      const cells = Object.entries(e.indicators).map(
        ([id, r]) => `${id} ${pct(r.rate)}${r.met ? "✓" : r.mandatory ? "✗" : "·"}`,
      );
      lines.push(`  ${e.finess}  FA ${e.file_active.value}  ${cells.join("  ")}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
