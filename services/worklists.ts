/**
 * Re-identifying a worklist (ADR 0013): the ESSMS's own DUI export read in memory to give the
 * local ids of the dossiers on its list, and of the séjours it shows (ADR 0027); nothing of the
 * file is stored or logged. The audit log and the access journal (ADR 0027) say who matched which
 * ESSMS × indicator, and how many were found.
 */
import type { Db } from "../db/index.ts";
import type { Day } from "../domain/dates.ts";
import type { IndicatorId } from "../domain/indicators.ts";
import type { Profile } from "../ingest/profile.ts";
import { reidentify } from "../ingest/reidentify.ts";
import { audit } from "../sql/audit.ts";
import type { EssmsRow } from "../sql/resources.ts";
import { worklistDocument } from "../sql/worklist.ts";
import { recordAccess } from "./access-journal.ts";
import type { UploadQueue } from "./imports.ts";

/**
 * The worklist of `e` at D for `indicator`, and the local ids of each dossier of it found in the
 * export at `path` (the usager's, and the séjour's when the export carries it; pseudonymised and
 * keyed with `secret`, read with `profile`), read when its turn comes in
 * the process's queue of file work (`queue`, services/imports.ts). `discard` removes the export's
 * file as soon as it is read, whatever happens.
 */
export async function matchWorklist(
  db: Db,
  queue: Pick<UploadQueue, "run">,
  e: Pick<EssmsRow, "finess" | "grappe_id">,
  d: Day,
  indicator: IndicatorId,
  file: { path: string; discard(): void },
  secret: string,
  profile: Profile | null,
  actor: string,
  role: string,
) {
  let matches: Awaited<ReturnType<typeof reidentify>>;
  let doc: Awaited<ReturnType<typeof worklistDocument>>;
  try {
    doc = await worklistDocument(db, e, d, indicator);
    const listed = { pseudonyms: doc.pseudonyms, sejours: doc.sejours };
    matches = await queue.run(() => reidentify(file.path, e.finess, secret, listed, profile));
  } finally {
    file.discard();
  }
  await audit(db, actor, "worklist.match", "essms", e.finess, e.grappe_id, null, {
    indicator: doc.indicator,
    measurement_date: d,
    listed: doc.count,
    matched: matches.length,
  });
  await recordAccess(db, {
    actor,
    role,
    kind: "reidentification",
    grappe_id: e.grappe_id,
    finess: e.finess,
    target: `${doc.indicator} ${d}`,
    matched: matches.length,
  });
  const ids = new Map(matches.map((m) => [m.ref, m]));
  return { doc, ids, matched: matches.length };
}
