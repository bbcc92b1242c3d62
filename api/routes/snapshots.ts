import { recordAccess } from "../../services/access-journal.ts";
import { decideSolde, decisionCaveats, freezeReport } from "../../services/snapshots.ts";
import { grappeSoldeDecisions, soldeDecisions } from "../../sql/resources.ts";
import { listSnapshots, readSnapshot } from "../../sql/snapshots.ts";
import { attachment, evidencePack, synthesisInput } from "../exports.ts";
import { synthesisPdf } from "../pdf.ts";
import { type AppDeps, handle, Reply, type RouteDef, type Scope } from "../registry.ts";
import { actor, grappeInScope, notFound } from "./scope.ts";

export const SNAPSHOTS: RouteDef[] = [
  handle("snapshots", {
    handler: async ({ deps, scope, params }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      return listSnapshots(deps.db, g.grappe_id);
    },
  }),

  handle("freeze", {
    handler: async ({ deps, scope, params, body, principal }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      const snap = await freezeReport(deps.db, body.date, g.grappe_id, actor(principal));
      return new Reply(201, {
        ...snap,
        decisions: [],
        caveats: await decisionCaveats(deps.db, snap, g.grappe_id),
        synthesis: (await synthesisInput(deps.db, snap)).synthesis,
      });
    },
  }),

  handle("snapshot", {
    handler: async ({ deps, scope, params }) => {
      const { g, snap } = await snapshotInScope(deps, scope, params.grappe_id, params.snapshot_id);
      const [decisions, shown, caveats] = await Promise.all([
        soldeDecisions(deps.db, snap.snapshot_id),
        synthesisInput(deps.db, snap),
        decisionCaveats(deps.db, snap, g.grappe_id),
      ]);
      return { ...snap, decisions, caveats, synthesis: shown.synthesis };
    },
  }),

  handle("soldeDecision", {
    handler: async ({ deps, scope, params, body, principal }) => {
      const { g, snap } = await snapshotInScope(deps, scope, params.grappe_id, params.snapshot_id);
      const saved = await decideSolde(deps.db, snap, g.grappe_id, body, actor(principal));
      const all = await soldeDecisions(deps.db, snap.snapshot_id);
      const decided = all.find((x) => x.decision_id === saved) ?? notFound(`décision ${saved}`);
      return new Reply(201, decided);
    },
  }),

  handle("decisions", {
    handler: async ({ deps, scope, params }) => {
      const g = await grappeInScope(deps, scope, params.grappe_id);
      return grappeSoldeDecisions(deps.db, g.grappe_id);
    },
  }),

  handle("synthesisPdf", {
    handler: async ({ deps, scope, params, query, c }) => {
      const { g, snap } = await snapshotInScope(deps, scope, params.grappe_id, query.snapshot);
      const pdf = await synthesisPdf(await synthesisInput(deps.db, snap));
      return c.body(new Uint8Array(pdf), 200, {
        "content-type": "application/pdf",
        "content-disposition": attachment(`synthese_${g.grappe_id}_fige${snap.snapshot_id}.pdf`),
      });
    },
  }),

  handle("evidence", {
    handler: async ({ deps, scope, params, query, c, principal }) => {
      const { g, snap } = await snapshotInScope(deps, scope, params.grappe_id, query.snapshot);
      await recordAccess(deps.db, {
        actor: actor(principal),
        role: principal.role,
        kind: "evidence_pack",
        grappe_id: g.grappe_id,
        target: `figé ${snap.snapshot_id}`,
      });
      // Streamed as it is read (ADR 0022): the first bytes leave before the proofs are read.
      const zip = await evidencePack(deps.db, snap, (e) =>
        deps.log?.({
          level: "error",
          request_id: c.get("requestId"),
          message: `dossier de preuve interrompu : ${(e as Error).message}`,
          stack: (e as Error).stack,
        }),
      );
      return c.body(zip, 200, {
        "content-type": "application/zip",
        "content-disposition": attachment(`preuves_${g.grappe_id}_fige${snap.snapshot_id}.zip`),
      });
    },
  }),
];

/** The grappe in scope and one of its frozen reports, or 404 (unknown, foreign or out of scope alike). */
async function snapshotInScope(deps: AppDeps, scope: Scope, grappeId: string, snapshotId: number) {
  const g = await grappeInScope(deps, scope, grappeId);
  const snap = await readSnapshot(deps.db, snapshotId);
  if (!snap || snap.grappe_id !== g.grappe_id) notFound(`figé ${snapshotId}`);
  return { g, snap };
}
