/**
 * The write verbs of a grappe's calendar (issue 33, R-C1): a milestone's planned date (the chef de
 * projet), the actual VA and VSR (the ARS officer), their PV, and each person's calendar feed.
 * Each owns its transaction with its audit entry.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../db/index.ts";
import {
  ACTUAL_WRITABLE,
  type Milestone,
  type MilestoneCode,
  milestones,
  PLANNED_WRITABLE,
} from "../domain/calendar.ts";
import { type Day, todayParis } from "../domain/dates.ts";
import { DomainError } from "../domain/errors.ts";
import type { Role } from "../domain/roles.ts";
import type { CheckedProof } from "../ingest/proofs.ts";
import { audit } from "../sql/audit.ts";
import {
  type ActualColumn,
  calendarFacts,
  countPvs,
  deleteFeed,
  insertPv,
  lockGrappeCalendar,
  MILESTONE_COLUMNS,
  type PlannedColumn,
  saveFeed,
  setGrappeDate,
} from "../sql/calendar.ts";
import { sha256 } from "../sql/identity.ts";

/** PV files kept per milestone (a corrected PV is added, the earlier ones stay as history). */
export const MAX_PV_PER_MILESTONE = 5;

export interface MilestoneInput {
  planned?: Day | null | undefined;
  actual?: Day | null | undefined;
}

/**
 * Writes a milestone's planned and/or actual date (null clears it). R-C1's who-writes-what: the
 * planned dates of lancement, VA, VSR and fin by the chef de projet (cibles derives from the VSR,
 * R-T3); the actual VA and VSR by the ARS officer (lancement's is `date_debut_projet`, cibles' and
 * fin's come from the decision in force). 403 for a role writing what is not its own, 422 for a
 * date that no one writes. The grappe's row locked, the change audited with before and after.
 */
export async function setMilestone(
  db: Db,
  grappeId: string,
  code: MilestoneCode,
  input: MilestoneInput,
  role: Role,
  actor: string,
): Promise<Milestone> {
  const writes: { column: PlannedColumn | ActualColumn; value: Day | null }[] = [];
  if (input.planned !== undefined) {
    if (!PLANNED_WRITABLE.includes(code))
      throw new DomainError(
        "validation",
        "la date prévue de la mesure des cibles découle de la VSR (VSR + 3 mois) : modifiez la VSR prévue",
      );
    if (role !== "chef_projet")
      throw new DomainError("forbidden", "seul le chef de projet de la grappe fixe les dates prévues");
    writes.push({
      column: MILESTONE_COLUMNS.planned[code as keyof typeof MILESTONE_COLUMNS.planned],
      value: input.planned,
    });
  }
  if (input.actual !== undefined) {
    if (!ACTUAL_WRITABLE.includes(code))
      throw new DomainError(
        "validation",
        code === "lancement"
          ? "la date réelle de lancement est la date de début du projet du référentiel"
          : "la date réelle de ce jalon découle de la décision de solde en vigueur",
      );
    if (role !== "ars")
      throw new DomainError(
        "forbidden",
        "seule l'ARS de la région enregistre la date réelle d'une VA ou d'une VSR",
      );
    writes.push({
      column: MILESTONE_COLUMNS.actual[code as keyof typeof MILESTONE_COLUMNS.actual],
      value: input.actual,
    });
  }
  if (writes.length === 0)
    throw new DomainError("validation", "indiquez une date prévue (planned) ou réelle (actual)");
  await db.transaction(async (tx) => {
    const before = await lockGrappeCalendar(tx, grappeId);
    if (!before) throw new DomainError("not_found", `grappe ${grappeId} introuvable`);
    const changed = writes.filter((w) => before[w.column as keyof typeof before] !== w.value);
    if (changed.length === 0) return;
    for (const w of changed) await setGrappeDate(tx, grappeId, w.column, w.value);
    await audit(
      tx,
      actor,
      "calendar.milestone",
      "grappe",
      grappeId,
      grappeId,
      {
        code,
        ...Object.fromEntries(changed.map((w) => [w.column, before[w.column as keyof typeof before]])),
      },
      { code, ...Object.fromEntries(changed.map((w) => [w.column, w.value])) },
    );
  });
  const f = await calendarFacts(db, grappeId);
  if (!f) throw new DomainError("not_found", `grappe ${grappeId} introuvable`);
  return milestones(f.facts, todayParis()).find((m) => m.code === code) as Milestone;
}

/**
 * Adds the PV of a VA or a VSR, a proof file already checked by its content (ingest/proofs.ts,
 * ADR 0022): 422 for another milestone, 409 beyond MAX_PV_PER_MILESTONE. Audited.
 */
export async function attachPv(
  db: Db,
  grappeId: string,
  code: MilestoneCode,
  proof: CheckedProof,
  actor: string,
): Promise<{ pv_id: number; code: "va" | "vsr"; media_type: string; size_bytes: number; sha256: string }> {
  if (code !== "va" && code !== "vsr")
    throw new DomainError("validation", "un procès-verbal se joint à la VA ou à la VSR");
  return db.transaction(async (tx) => {
    if (!(await lockGrappeCalendar(tx, grappeId)))
      throw new DomainError("not_found", `grappe ${grappeId} introuvable`);
    if ((await countPvs(tx, grappeId, code)) >= MAX_PV_PER_MILESTONE)
      throw new DomainError("conflict", `${MAX_PV_PER_MILESTONE} procès-verbaux au plus par jalon`);
    const pvId = await insertPv(tx, grappeId, code, proof, actor);
    const entry = {
      pv_id: pvId,
      code,
      media_type: proof.mediaType,
      size_bytes: proof.content.length,
      sha256: proof.sha256,
    };
    await audit(tx, actor, "calendar.pv", "grappe", grappeId, grappeId, null, {
      ...entry,
      original_sha256: proof.original.sha256,
      original_size_bytes: proof.original.size,
    });
    return entry;
  });
}

/**
 * Creates (or replaces) a person's calendar feed: a new random secret, returned once, stored as
 * its sha256 (the old URL stops answering). Audited without the secret.
 */
export async function createFeed(db: Db, userId: number, actor: string): Promise<string> {
  const secret = randomBytes(32).toString("base64url");
  await db.transaction(async (tx) => {
    await saveFeed(tx, userId, sha256(secret));
    await audit(tx, actor, "calendar_feed.create", "app_user", String(userId), null, null, {
      user_id: userId,
    });
  });
  return secret;
}

/** Revokes a person's feed (its URL then answers 404); false when there was none. */
export async function revokeFeed(db: Db, userId: number, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const had = await deleteFeed(tx, userId);
    if (had)
      await audit(
        tx,
        actor,
        "calendar_feed.revoke",
        "app_user",
        String(userId),
        null,
        { user_id: userId },
        null,
      );
    return had;
  });
}
