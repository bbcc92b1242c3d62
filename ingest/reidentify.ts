/**
 * Re-identification without storage (issue 15 §2, issue 35): an ESSMS's own DUI export (any kind
 * that carries `usager_id`, canonical or through the ESSMS's vendor profile) is read in memory,
 * each row's pseudonym computed as at import (exports.md §1), and matched with a worklist; when
 * the export carries `sejour_id` (a dossiers export), each listed row's séjour id is keyed as at
 * import too (kind `sejour`), so that the séjour the worklist shows gets its local id back.
 * Nothing of the file is stored or logged; only the matches go back to whoever sent it.
 */
import { DomainError, isDomainError } from "../domain/errors.ts";
import { trimIdentifier } from "../domain/rejections.ts";
import type { OnList } from "../domain/worklist.ts";
import { fileInput, mapColumns, openCsv, probeFile } from "./csv.ts";
import { kindFromFileName, kindFromHeader } from "./kinds.ts";
import { type Profile, profileRenames } from "./profile.ts";
import { keyIdentifier, pseudonymise } from "./pseudonym.ts";

/**
 * A DUI local id found on the worklist (`ref`): what the ESSMS's staff looks for in its DUI; and
 * the local id of the séjour the worklist shows, when the export carries it (else null).
 */
export interface Match {
  usager_id: string;
  ref: string;
  sejour_id: string | null;
}

/**
 * Reads `path` and returns the local ids of `finess` whose pseudonym is listed (`onList`), each
 * once, in ref order, with the local id of the séjour shown when a row of the same person carries
 * it. Errors: DomainError "file_refused" (French) when the file is not a readable CSV or has no
 * `finess` and `usager_id` columns.
 */
export async function reidentify(
  path: string,
  finess: string,
  secret: string,
  onList: OnList,
  profile: Profile | null = null,
): Promise<Match[]> {
  const probe = await probeFile(path);
  if (probe.bytes === 0 || !probe.isText)
    throw new DomainError("file_refused", "fichier vide ou qui n'est pas un fichier texte (CSV attendu)");
  let source: Awaited<ReturnType<typeof openCsv>>;
  try {
    source = await openCsv(fileInput(path), probe.encoding);
  } catch (e) {
    if (isDomainError(e, "file_refused")) throw e;
    throw new DomainError("file_refused", "fichier CSV illisible");
  }
  // The profile's renames of the file's kind, told as the ingest tells it (exports.md §1): by its
  // name, else by its header (an upload's file has a name of ours), so that a vendor's dossiers
  // export gives its séjour column too.
  const told = kindFromHeader(source.header, (k) => profileRenames(profile, k));
  const kind = kindFromFileName(path.split("/").pop() ?? "") ?? (told && "kind" in told ? told.kind : "*");
  const { index, missing } = mapColumns(
    source.header,
    ["finess", "usager_id", "sejour_id"],
    ["finess", "usager_id"],
    profileRenames(profile, kind),
  );
  if (missing.length > 0) {
    await source.close();
    throw new DomainError(
      "file_refused",
      `colonnes obligatoires manquantes : ${missing.join(", ")} (un export du DUI de l'ESSMS portant l'identifiant local des usagers)`,
    );
  }
  const found = new Map<string, Match>();
  const sejourAt = index.sejour_id;
  for await (const rec of source.records) {
    const f = rec.fields[index.finess as number]?.trim();
    // Identifiers as the ingest keeps them (exports.md §1): invisible ends removed.
    const id = trimIdentifier(rec.fields[index.usager_id as number] ?? "");
    if (f !== finess || !id) continue;
    const ref = onList.pseudonyms.get(pseudonymise(secret, finess, id));
    if (ref === undefined) continue;
    let match = found.get(ref);
    if (match === undefined) {
      match = { usager_id: id, ref, sejour_id: null };
      found.set(ref, match);
    }
    // The séjour the worklist shows: keyed as at import, compared, never kept.
    const shown = onList.sejours.get(ref);
    if (match.sejour_id !== null || shown === undefined || sejourAt === undefined) continue;
    const sejourId = trimIdentifier(rec.fields[sejourAt] ?? "");
    if (sejourId && keyIdentifier(secret, "sejour", finess, sejourId) === shown) match.sejour_id = sejourId;
  }
  return [...found.values()].sort((a, b) => (a.ref < b.ref ? -1 : 1));
}
