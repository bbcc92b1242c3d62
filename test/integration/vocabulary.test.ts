/**
 * One vocabulary (issue 13.5): every closed list of the database — the `check (col in (…))`
 * constraints of the migrations — equals its declaration in domain/, on both backends; the API's
 * enums derive from the same declarations.
 */
import { describe, expect } from "vitest";
import * as S from "../../api/schemas.ts";
import type { Db } from "../../db/index.ts";
import { ACCESS_KINDS } from "../../domain/access-journal.ts";
import { ACTUAL_WRITABLE } from "../../domain/calendar.ts";
import { INDICATOR_IDS } from "../../domain/indicators.ts";
import { MAIL_MODES, NOTIFICATION_KINDS } from "../../domain/notifications.ts";
import { ROLES } from "../../domain/roles.ts";
import {
  ACTION_STATUS,
  AGENDA_STATUT,
  AMENAGEMENT_ETAT,
  AMENAGEMENT_JOURNAL_ENTRY,
  DMP_STATUT,
  IMPORT_STATUS,
  MSS_SENS,
  MSS_STATUT,
  OPTIONAL_KIND,
  PIECE_MEDIA_TYPE,
  PP_STATUT,
  TYPE_PROJET,
} from "../../domain/vocabulary.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";

/** `table.column` → the domain's list for it. */
const DECLARED: Record<string, readonly string[]> = {
  "essms.type_projet": TYPE_PROJET.values,
  "import.status": IMPORT_STATUS.values,
  "projet_personnalise.statut": PP_STATUT.canonical,
  "agenda_event.statut": AGENDA_STATUT.canonical,
  "mss_message.sens": MSS_SENS.canonical,
  "mss_message.statut": MSS_STATUT.canonical,
  "dmp_document.statut": DMP_STATUT.canonical,
  "optional_event.kind": OPTIONAL_KIND.values,
  "amenagement.indicateur": INDICATOR_IDS,
  "amenagement.statut": AMENAGEMENT_ETAT.values,
  "amenagement_decision.decision": AMENAGEMENT_JOURNAL_ENTRY,
  "app_user.role": ROLES,
  "invitation.role": ROLES,
  "corrective_action.status": ACTION_STATUS.values,
  "amenagement_piece.media_type": PIECE_MEDIA_TYPE.values,
  "notification.kind": NOTIFICATION_KINDS,
  "notification.mail_state": ["pending", "mailed", "skipped"],
  "notification_preference.kind": NOTIFICATION_KINDS,
  "notification_preference.mode": MAIL_MODES,
  "mail_outbox.state": ["pending", "sent", "failed"],
  "access_journal.kind": ACCESS_KINDS,
  "milestone_pv.code": ACTUAL_WRITABLE,
};

/** Every `check (column in (…))` constraint: `table.column` → its values. */
async function checkLists(db: Db): Promise<Record<string, string[]>> {
  const rows = await db.query<{ t: string; def: string }>(
    `select c.relname as t, pg_get_constraintdef(k.oid) as def
     from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
     where k.contype = 'c' and n.nspname = 'public'`,
  );
  const out: Record<string, string[]> = {};
  for (const { t, def } of rows) {
    // CHECK ((col = ANY (ARRAY['a'::text, 'b'::text])))
    const m = /\(\(?(\w+) = ANY \(+ARRAY\[(.*)\]\)/.exec(def);
    if (!m) continue;
    out[`${t}.${m[1]}`] = [...(m[2] as string).matchAll(/'([^']*)'/g)].map((v) => v[1] as string);
  }
  return out;
}

describeOnBackends("vocabulary", {}, () => {
  it("every closed list of the database is the one declared in domain/", async ({ db }) => {
    const lists = await checkLists(db);
    const sorted = (v: readonly string[]) => [...v].sort();
    expect(Object.keys(lists).sort()).toEqual(Object.keys(DECLARED).sort());
    for (const [column, values] of Object.entries(DECLARED))
      expect(sorted(lists[column] ?? []), column).toEqual(sorted(values));
  });
});

describe("API enums", () => {
  it("derive from the same declarations", () => {
    expect(S.adjustment.shape.statut.options).toEqual([...AMENAGEMENT_ETAT.values]);
    expect(S.action.shape.status.options).toEqual([...ACTION_STATUS.values]);
    expect(S.importRow.shape.status.options).toEqual([...IMPORT_STATUS.values]);
    expect(S.me.shape.role.options).toEqual([...ROLES]);
  });
});
