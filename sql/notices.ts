/**
 * The events of the product's writes (issue 31 §1), each recorded by the caller in the transaction
 * of its change: an adjustment proposed (→ the region's ARS), decided or withdrawn (→ its proposer
 * and the grappe's team), the solde decided (→ the team), an import refused or with rejected rows
 * (→ its uploader; the command line's and the inbox's → the team of each grappe concerned). The
 * titles name an ESSMS, an indicator and counts: never an identifier, a file name or a comment.
 */
import type { Queryable } from "../db/index.ts";
import { plural } from "../domain/french.ts";
import { INDICATOR_BY_ID, type IndicatorId } from "../domain/indicators.ts";
import { EXPORT_KIND } from "../domain/vocabulary.ts";
import { adjustmentFacts, grappeName, grappesOfFiness, notify } from "./notifications.ts";

const DECIDED: Record<string, string> = {
  APPROUVE: "approuvé par l'ARS",
  REFUSE: "refusé par l'ARS",
  REVOQUE: "révoqué par l'ARS",
  RETIRE: "retiré par son équipe",
};

/** An adjustment proposed (`propose`), decided (APPROUVE, REFUSE, REVOQUE) or withdrawn (RETIRE). */
export async function adjustmentNotice(
  q: Queryable,
  id: number,
  what: "propose" | "APPROUVE" | "REFUSE" | "REVOQUE" | "RETIRE",
  actor: string,
): Promise<void> {
  const a = await adjustmentFacts(q, id);
  if (!a) return;
  const subject = `${a.raison_sociale} (${a.finess}), ${INDICATOR_BY_ID[a.indicateur as IndicatorId]?.shortLabel ?? a.indicateur} : ${plural(a.nombre, "personne", "personnes")}`;
  if (what === "propose") {
    await notify(
      q,
      { arsOf: a.grappe_id, except: actor },
      {
        kind: "amenagement_propose",
        event_key: `amenagement_propose:${id}`,
        grappe_id: a.grappe_id,
        title: `Aménagement n° ${id} à décider : ${subject}`,
        link: "#/ars",
      },
    );
    return;
  }
  await notify(
    q,
    { team: a.grappe_id, emails: a.created_by ? [a.created_by] : [], except: actor },
    {
      kind: "amenagement_decide",
      event_key: `amenagement_decide:${id}:${what}`,
      grappe_id: a.grappe_id,
      title: `Aménagement n° ${id} ${DECIDED[what]} : ${subject}`,
      link: `#/essms/${a.finess}`,
    },
  );
}

/** The ARS's decision on a grappe's solde, taken or replacing another. */
export async function soldeNotice(
  q: Queryable,
  grappeId: string,
  decisionId: number,
  eligible: boolean,
  replaced: boolean,
  actor: string,
): Promise<void> {
  const name = await grappeName(q, grappeId);
  await notify(
    q,
    { team: grappeId, except: actor },
    {
      kind: "solde_decide",
      event_key: `solde_decide:${decisionId}`,
      grappe_id: grappeId,
      title: `${replaced ? "Nouvelle décision" : "Décision"} de l'ARS sur le solde de ${name} : ${eligible ? "éligible" : "non éligible"} (décision n° ${decisionId})`,
      link: `#/grappe/${encodeURIComponent(grappeId)}`,
    },
  );
}

/**
 * An import refused, or loaded with rejected rows: told to its uploader (API), else to the team of
 * each grappe its rows concern (command line, inbox).
 */
export async function importNotice(
  q: Queryable,
  importId: number,
  r: { status: string; kind: string | null; rows: number; rejected: number },
  o: { source: string; actor: string | null; finess: readonly string[] },
): Promise<void> {
  if (r.status !== "refused" && r.rejected === 0) return;
  const kind =
    r.kind && r.kind in EXPORT_KIND.labels
      ? EXPORT_KIND.labels[r.kind as keyof typeof EXPORT_KIND.labels]
      : "export";
  const title =
    r.status === "refused"
      ? `Import n° ${importId} refusé (${kind}) : rien n'a été chargé`
      : `Import n° ${importId} (${kind}) : ${plural(r.rejected, "ligne rejetée", "lignes rejetées")} sur ${r.rows}`;
  const event = {
    kind: "import_refuse" as const,
    event_key: `import_refuse:${importId}`,
    title,
    link: `#/imports/${importId}`,
  };
  if (o.source === "api" && o.actor) {
    const grappes = await grappesOfFiness(q, o.finess);
    await notify(
      q,
      { emails: [o.actor] },
      { ...event, grappe_id: grappes.length === 1 ? (grappes[0] as string) : null },
    );
    return;
  }
  for (const g of await grappesOfFiness(q, o.finess))
    await notify(q, { team: g }, { ...event, grappe_id: g });
}
