/**
 * The file's verdict once every row is read (exports.md §2), in its transaction: loaded, or cut
 * short — refused when it has no data row or too many rejected rows (a sign of a wrong profile),
 * skipped when every valid row's FINESS was already loaded from this content. A cut-short file
 * throws (result.ts): its transaction rolls back, merged chunks included.
 */
import type { ReadTotals } from "./chunks.ts";
import type { Kind } from "./kinds.ts";
import type { RejectionLog } from "./rejections.ts";
import {
  type IngestFileResult,
  MAX_ERRORS_IN_RESULT,
  RefusedWithRows,
  RefuseFile,
  SkipFile,
} from "./result.ts";

/** Share of rejected rows above which a file is refused whole (a sign of a wrong profile). */
export const MAX_REJECTED_SHARE = 0.2;

function plural(n: number, one: string, many: string): string {
  return `${n} ${n > 1 ? many : one}`;
}

/** The loaded file's result; throws RefuseFile, RefusedWithRows or SkipFile when it is cut short. */
export function verdict(
  label: string,
  kind: Kind,
  sha256: string,
  totals: ReadTotals,
  rejections: RejectionLog,
): IngestFileResult {
  const { rows, rejectedRows, outOfScopeRows, alreadyLoadedRows } = totals;
  if (rows === 0) throw new RefuseFile("aucune ligne de données");
  // The share that refuses a file (a wrong profile) counts the rows this import is about, not
  // another grappe's rows in a scoped upload (rows already loaded from this content were valid).
  const considered = rows - outOfScopeRows;
  const refusedWhole = rejectedRows - outOfScopeRows > considered * MAX_REJECTED_SHARE;
  const loaded = refusedWhole ? 0 : rows - rejectedRows - alreadyLoadedRows;
  if (!refusedWhole && loaded === 0 && alreadyLoadedRows > 0) throw new SkipFile();
  const status = refusedWhole ? "refused" : "loaded";
  const message = refusedWhole
    ? `${plural(rejectedRows - outOfScopeRows, "ligne rejetée", "lignes rejetées")} sur ${considered} (plus de 20 %) : fichier refusé en entier, rien n'a été chargé. Vérifiez le profil éditeur ou le référentiel.`
    : null;
  const result: IngestFileResult = {
    file: label,
    kind,
    status,
    rows,
    loaded,
    rejected: rejectedRows,
    ...(alreadyLoadedRows > 0 ? { already_loaded: alreadyLoadedRows } : {}),
    errors: rejections.first,
    ...(rejections.count > MAX_ERRORS_IN_RESULT ? { errors_truncated: true } : {}),
    ...(message ? { message } : {}),
    sha256,
  };
  // Refused: the transaction rolls back (merged chunks included); the refusal and its reasons
  // are recorded apart (record.ts `recordCutShort`).
  if (refusedWhole) throw new RefusedWithRows(result);
  return result;
}
