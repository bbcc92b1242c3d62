/**
 * Issue 14 over real HTTP on both backends: adjustments bounded by their denominator and shown
 * with the effect of approving them, the solde decision (verdict, motivated departure, one in
 * force, explicit replacement, history), the grappe synthesis and the region view.
 */
import { createHash } from "node:crypto";
import { strFromU8, unzipSync } from "fflate";
import { afterAll, expect } from "vitest";
import { startServer } from "../../api/server.ts";
import type { Db } from "../../db/index.ts";
import { PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { SECRET } from "../support/helpers.ts";
import { readPdf } from "../support/pdf.ts";
import { cleanHandPdf } from "../support/proofs.ts";

const D = "2025-07-01";

interface Effect {
  measurement_date: string;
  applies: boolean;
  essms: Record<"denominator" | "rate" | "met" | "meets_all_mandatory", { before: unknown; after: unknown }>;
  grappe: Record<"rate" | "met" | "eligible" | "eligible_pooled", { before: unknown; after: unknown }>;
}
interface AdjustmentView {
  amenagement_id: number;
  finess: string;
  raison_sociale: string;
  essms_categorie_libelle: string | null;
  statut: string;
  raw_denominator: number | null;
  current_rate: number | null;
  effect: { at_measurement_date: Effect | null; at_target_date: Effect | null } | null;
}
interface Indicator {
  numerator: number;
  denominator: number;
  rate: number | null;
  met: boolean;
  gap: number | null;
}
interface Synthesis {
  status: string;
  verdict: string;
  eligible: boolean | null;
  eligible_pooled: boolean | null;
  pooled_label: string;
  amount: { solde_eur: number; status: string | null; label: string };
  blockers: { finess: string; indicator: string; gap: number | null }[];
  blockers_total: { essms: number; dossiers: number; messages: number };
  days_left_label: string | null;
}
interface Cheapest {
  strict: {
    finess: string;
    dossiers: number;
    actions: Record<"trace" | "projet_personnalise" | "agenda" | "dmp" | "mss", number>;
    reachable: boolean;
  }[];
  strict_total: { essms: number; dossiers: number; actions: Record<string, number> };
  pooled: { indicator: string; gap: number; from: { finess: string; count: number }[] }[];
}
interface GrappeDetail {
  synthesis: Synthesis;
  eligible: boolean;
  eligible_pooled: boolean;
  subsidy: { solde_eur: number };
  indicators: Record<string, Indicator>;
  essms: { finess: string; indicators: Record<string, Indicator>; meets_all_mandatory: boolean }[];
}

/** One server per database, started by the suite's first test. */
const servers = new Map<Db, Promise<{ base: string; close: () => Promise<unknown> }>>();
afterAll(async () => {
  for (const s of servers.values()) await (await s).close();
});

async function client(db: Db) {
  let s = servers.get(db);
  if (!s) {
    s = startServer({ db, secret: SECRET }, 0, "127.0.0.1").then((srv) => ({
      base: `http://127.0.0.1:${srv.port}`,
      close: () => srv.close(),
    }));
    servers.set(db, s);
  }
  const { base } = await s;
  const cookies = new Map<string, string>();
  const login = async (who: keyof typeof USERS) => {
    let c = cookies.get(who);
    if (!c) {
      const res = await fetch(`${base}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ email: USERS[who]?.email, password: PASSWORD }),
      });
      expect(res.status).toBe(200);
      c = (res.headers.get("set-cookie") ?? "").split(";")[0] as string;
      cookies.set(who, c);
    }
    return c;
  };
  return {
    cookie: login,
    get: async (who: keyof typeof USERS, path: string) =>
      fetch(`${base}${path}`, { headers: { cookie: await login(who) } }),
    post: async (who: keyof typeof USERS, path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base, cookie: await login(who) },
        body: JSON.stringify(body),
      }),
  };
}

const proposal = (finess: string, nombre: number, date_debut: string, date_fin: string | null = null) => ({
  finess,
  indicateur: "dmp",
  nombre,
  categorie: "opposition_mes",
  justification: "usagers opposés à Mon espace santé",
  date_debut,
  date_fin,
});

describeOnBackends("decision-grade solde and adjustments", { seed: populate }, () => {
  it("refuses an adjustment larger than the persons its indicator misses, counting those in force the same day, in French with the numbers", async ({
    db,
  }) => {
    const api = await client(db);
    const essms = (await (await api.get("chef_projet", `/api/essms/340000017?date=${D}`)).json()) as {
      file_active: { value: number };
      indicators: { dmp: { numerator: number } };
    };
    const fa = essms.file_active.value;
    const missing = fa - essms.indicators.dmp.numerator;
    expect(missing).toBeGreaterThanOrEqual(2);
    const july = (n: number, debut = D, fin: string | null = "2025-07-31") =>
      proposal("340000017", n, debut, fin);

    const tooBig = await api.post("chef_projet", "/api/adjustments", july(missing + 1));
    expect(tooBig.status).toBe(422);
    const problem = (await tooBig.json()) as { detail: string };
    expect(problem.detail).toContain(
      `${missing + 1} personnes pour ${missing} personnes au dénominateur sans être au numérateur`,
    );
    expect(problem.detail).toContain(`dénominateur de ${fa} avant aménagement, file active`);
    expect(problem.detail).toContain("au 01/07/2025");
    // The preview answers the same, and nothing was stored.
    expect((await api.post("chef_projet", "/api/adjustments/effect", july(missing + 1))).status).toBe(422);
    expect(
      (await (await api.get("chef_projet", "/api/adjustments?grappe_id=T1")).json()) as unknown[],
    ).toEqual([]);

    // Within the bound it is accepted; then one in force the same days is counted with it.
    expect((await api.post("amoa", "/api/adjustments", july(missing - 1))).status).toBe(201);
    const overlapping = await api.post("amoa", "/api/adjustments", july(2));
    expect(overlapping.status).toBe(422);
    expect(((await overlapping.json()) as { detail: string }).detail).toContain(
      `2 personnes demandées + ${missing - 1} personnes déjà approuvées ou proposées en vigueur ce jour-là`,
    );
    // After the first one's period, the same proposal is checked alone (and at the dates measured).
    const later = await api.post("amoa", "/api/adjustments", july(1, "2025-08-01", "2025-08-31"));
    expect([201, 422]).toContain(later.status);
    // An open-ended adjustment is checked at the dates measured too (today, the target date).
    expect((await api.post("amoa", "/api/adjustments", july(1, D, null))).status).toBe(201);
  });

  it("shows, before approval, the effect that approving has: the same figures afterwards", async ({ db }) => {
    const api = await client(db);
    const created = await api.post("chef_projet", "/api/adjustments", {
      ...proposal("340000017", 1, D, "2025-07-31"),
      indicateur: "agenda",
    });
    expect(created.status).toBe(201);
    const { amenagement_id } = (await created.json()) as { amenagement_id: number };

    const queue = (await (
      await api.get("ars", `/api/adjustments?grappe_id=T1&date=${D}`)
    ).json()) as AdjustmentView[];
    const a = queue.find((x) => x.amenagement_id === amenagement_id) as AdjustmentView;
    expect(a.raison_sociale).toBe("EHPAD Les Tilleuls");
    expect(a.essms_categorie_libelle).toBe("Etablissement d'hébergement pour personnes âgées dépendantes");
    const effect = a.effect?.at_measurement_date as Effect;
    expect(effect.applies).toBe(true);
    expect(effect.essms.denominator.after).toBe((effect.essms.denominator.before as number) - 1);
    expect(a.current_rate).toBe(effect.essms.rate.before);
    // R-T3: VSR 2025-04-01 + 3 months is D itself.
    expect(a.effect?.at_target_date).toEqual(effect);

    const before = (await (await api.get("ars", `/api/grappes/T1?date=${D}`)).json()) as GrappeDetail;
    const approved = await api.post("ars", `/api/adjustments/${amenagement_id}/decision`, {
      decision: "APPROUVE",
    });
    expect(approved.status).toBe(200);
    const after = (await (await api.get("ars", `/api/grappes/T1?date=${D}`)).json()) as GrappeDetail;

    const agenda = (g: GrappeDetail) =>
      g.essms.find((e) => e.finess === "340000017")?.indicators.agenda as Indicator;
    expect([agenda(before).rate, agenda(before).met, agenda(before).denominator]).toEqual([
      effect.essms.rate.before,
      effect.essms.met.before,
      effect.essms.denominator.before,
    ]);
    expect([agenda(after).rate, agenda(after).met, agenda(after).denominator]).toEqual([
      effect.essms.rate.after,
      effect.essms.met.after,
      effect.essms.denominator.after,
    ]);
    expect([
      after.indicators.agenda?.rate,
      after.indicators.agenda?.met,
      after.eligible,
      after.eligible_pooled,
    ]).toEqual([
      effect.grappe.rate.after,
      effect.grappe.met.after,
      effect.grappe.eligible.after,
      effect.grappe.eligible_pooled.after,
    ]);
    // Once decided, the queue no longer shows an effect to weigh.
    const decided = (await (
      await api.get("ars", `/api/adjustments?grappe_id=T1&date=${D}`)
    ).json()) as AdjustmentView[];
    expect(decided.find((x) => x.amenagement_id === amenagement_id)?.effect).toBeNull();
  });

  it("attaches proof recognised by its content, stored with its sha256, read back and packed as evidence", async ({
    db,
  }) => {
    const api = await client(db);
    const created = await api.post("amoa", "/api/adjustments", {
      ...proposal("2A0000017", 1, D, "2025-07-31"),
      indicateur: "dmp",
      justification: "pièce jointe de la commission",
    });
    expect(created.status).toBe(201);
    const { amenagement_id: id } = (await created.json()) as { amenagement_id: number };
    const send = async (name: string, bytes: Uint8Array<ArrayBuffer>, type = "application/pdf") => {
      const form = new FormData();
      form.set("file", new File([bytes], name, { type }));
      const { base } = await (servers.get(db) as Promise<{ base: string }>);
      return fetch(`${base}/api/adjustments/${id}/pieces`, {
        method: "POST",
        headers: { origin: base, cookie: await api.cookie("amoa") },
        body: form,
      });
    };
    const pdfBytes = cleanHandPdf() as Uint8Array<ArrayBuffer>;
    const ok = await send("attestation.pdf", pdfBytes);
    expect(ok.status).toBe(201);
    const piece = (await ok.json()) as {
      piece_id: number;
      media_type: string;
      sha256: string;
      size_bytes: number;
    };
    expect(piece).toMatchObject({
      media_type: "application/pdf",
      size_bytes: pdfBytes.length,
      sha256: createHash("sha256").update(pdfBytes).digest("hex"),
    });
    // A text file named .pdf and declared as PDF is refused: the content decides.
    const fake = await send("faux.pdf", new TextEncoder().encode("Nom;Prénom\nDUPONT;Jean\n"));
    expect(fake.status).toBe(415);
    expect(((await fake.json()) as { detail: string }).detail).toMatch(/PDF, PNG et JPEG/);
    // Over 5 Mo: 413 before it is stored.
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect((await send("grand.png", big, "image/png")).status).toBe(413);

    const back = await api.get("ars", `/api/adjustments/${id}/pieces/${piece.piece_id}`);
    expect(back.headers.get("content-type")).toBe("application/pdf");
    expect(back.headers.get("content-disposition")).toContain(`amenagement${id}_piece${piece.piece_id}.pdf`);
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(pdfBytes);
    const listed = (await (await api.get("ars", "/api/adjustments?grappe_id=T1")).json()) as {
      amenagement_id: number;
      pieces: { sha256: string }[];
    }[];
    expect(listed.find((a) => a.amenagement_id === id)?.pieces.map((p) => p.sha256)).toEqual([piece.sha256]);

    const frozen = (await (await api.post("ars", "/api/grappes/T1/snapshots", { date: D })).json()) as {
      snapshot_id: number;
    };
    const zip = unzipSync(
      new Uint8Array(
        await (await api.get("ars", `/api/grappes/T1/evidence?snapshot=${frozen.snapshot_id}`)).arrayBuffer(),
      ),
    );
    const packed = `pieces/amenagement${id}_piece${piece.piece_id}.pdf`;
    expect(zip[packed]).toEqual(pdfBytes);
    expect(strFromU8(zip["pieces.csv"] as Uint8Array)).toContain(
      `${packed};PDF;${pdfBytes.length};${piece.sha256}`,
    );

    // Once decided, the adjustment takes no more proof.
    expect(
      (
        await api.post("ars", `/api/adjustments/${id}/decision`, {
          decision: "REFUSE",
          comment: "hors périmètre",
        })
      ).status,
    ).toBe(200);
    expect((await send("apres.pdf", pdfBytes)).status).toBe(409);
  });

  it("takes one solde decision in force per grappe: a departure is motivated, a replacement explicit, the history kept", async ({
    db,
  }) => {
    const api = await client(db);
    const frozen = await api.post("ars", "/api/grappes/T1/snapshots", { date: D });
    expect(frozen.status).toBe(201);
    const snap = (await frozen.json()) as {
      snapshot_id: number;
      report: { grappes: { eligible: boolean }[] };
    };
    const computed = snap.report.grappes[0]?.eligible as boolean;

    const lines = (await (await api.get("ars", "/api/grappes/T1/snapshots")).json()) as {
      snapshot_id: number;
      eligible: boolean;
      solde_eur: number;
    }[];
    const line = lines.find((l) => l.snapshot_id === snap.snapshot_id);
    expect(line?.eligible).toBe(computed);
    expect(line?.solde_eur).toBeGreaterThan(0);

    const path = `/api/grappes/T1/snapshots/${snap.snapshot_id}/decision`;
    const departing = await api.post("ars", path, { eligible: !computed });
    expect(departing.status).toBe(422);
    expect(((await departing.json()) as { detail: string }).detail).toMatch(/s'écarte du verdict calculé/);

    // The mini case's exports leave months without a file in the window (its refused files): a
    // decision on them, even the computed verdict, is confirmed with its motive (issue 30 §3).
    const unmotivated = await api.post("ars", path, { eligible: computed });
    expect(unmotivated.status).toBe(422);
    expect(((await unmotivated.json()) as { detail: string }).detail).toMatch(
      /^Décision sur des données incomplètes .* : confirmez-la en donnant son motif/,
    );
    const first = await api.post("ars", path, {
      eligible: computed,
      comment: "exports manquants connus, sans effet sur le verdict",
    });
    expect(first.status).toBe(201);
    const d1 = (await first.json()) as {
      decision_id: number;
      in_force: boolean;
      computed_eligible: boolean;
      data_incomplete: boolean;
    };
    expect(d1).toMatchObject({ in_force: true, computed_eligible: computed, data_incomplete: true });

    const second = await api.post("ars", path, { eligible: computed, comment: "même avis" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { detail: string }).detail).toContain(`n° ${d1.decision_id}`);

    const noReason = await api.post("ars", path, {
      eligible: !computed,
      comment: "pièces complémentaires reçues de la grappe",
      replaces_decision_id: d1.decision_id,
    });
    expect(noReason.status).toBe(422);

    const replaced = await api.post("ars", path, {
      eligible: !computed,
      comment: "pièces complémentaires reçues de la grappe",
      replaces_decision_id: d1.decision_id,
      replacement_reason: "revue contradictoire du 15/07",
    });
    expect(replaced.status).toBe(201);
    const d2 = (await replaced.json()) as { decision_id: number };

    // Replacing one that is no longer in force is a conflict too.
    expect(
      (
        await api.post("ars", path, {
          eligible: computed,
          replaces_decision_id: d1.decision_id,
          replacement_reason: "encore une autre revue",
        })
      ).status,
    ).toBe(409);

    // The one-page synthesis names the verdict, the amount and the decision in force with its author.
    const pdf = await api.get("chef_projet", `/api/grappes/T1/synthesis.pdf?snapshot=${snap.snapshot_id}`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    const read = await readPdf(await pdf.arrayBuffer());
    expect(read.pages).toBe(1);
    const detail = (await (await api.get("ars", `/api/grappes/T1?date=${D}`)).json()) as GrappeDetail;
    expect(read.text).toContain(computed ? "Éligible au solde" : "Non éligible au solde");
    expect(read.text).toContain(
      `${computed ? "Solde dû" : "Solde à risque"} : ${detail.synthesis.amount.label.split(" : ")[1]}`,
    );
    expect(read.text).toContain("Verdict mutualisé (informatif");
    expect(read.text).toContain(
      `Décision n° ${d2.decision_id} : ${computed ? "non éligible" : "éligible"}, par ${USERS.ars?.email}`,
    );
    expect(read.text).toContain("EHPAD Les Tilleuls (340000017)");
    expect(read.text).toContain("règles de calcul version 2025.1");
    // Issue 30 §9: the region by its name, French plurals, the motive and the caveat in words,
    // and a table whose header (« Projet personnalisé » wraps) ends above its first row.
    expect(read.text).toContain("Occitanie - mesure au");
    expect(read.text).not.toMatch(/Région OCC|\(s\)/);
    expect(read.text).toContain("Motif : pièces complémentaires reçues de la grappe");
    expect(read.text).toContain("sur des données incomplètes");
    const header = read.items.filter(
      (i) => i.str === "ESSMS (FINESS)" || /^(Projet|personnalisé)$/.test(i.str),
    );
    const firstRow = read.items.find((i) => i.str.endsWith("(340000017)") && i.x < 100);
    expect(header.length).toBeGreaterThanOrEqual(2);
    expect(firstRow).toBeDefined();
    const lowestHeader = Math.min(...header.map((i) => i.y));
    // pdf.js's y is the baseline, from the bottom: the row's top (baseline + its height) stays below.
    expect((firstRow?.y ?? 0) + (firstRow?.height ?? 0)).toBeLessThan(lowestHeader);

    const history = (await (await api.get("chef_projet", "/api/grappes/T1/decisions")).json()) as {
      decision_id: number;
      in_force: boolean;
      replaces_decision_id: number | null;
      replacement_reason: string | null;
      decided_by: string;
      measurement_date: string;
    }[];
    expect(history.map((h) => [h.decision_id, h.in_force, h.replaces_decision_id])).toEqual([
      [d1.decision_id, false, null],
      [d2.decision_id, true, d1.decision_id],
    ]);
    expect(history[1]).toMatchObject({
      replacement_reason: "revue contradictoire du 15/07",
      decided_by: USERS.ars?.email,
      measurement_date: D,
    });
  });

  it("opens the grappe detail with its synthesis: the verdict that governs, the amount, the blockers by effort", async ({
    db,
  }) => {
    const api = await client(db);
    const res = await api.get("chef_projet", `/api/grappes/T1?date=${D}`);
    const text = await res.text();
    expect(text.startsWith('{"synthesis":')).toBe(true);
    const g = JSON.parse(text) as GrappeDetail;
    const s = g.synthesis;
    expect(s.status).toBe(g.eligible ? "eligible" : "non_eligible");
    expect(s.eligible).toBe(g.eligible);
    expect(s.eligible_pooled).toBe(g.eligible_pooled);
    expect(s.pooled_label).toMatch(/informatif/);
    expect(s.amount).toMatchObject({
      solde_eur: g.subsidy.solde_eur,
      status: g.eligible ? "du" : "a_risque",
    });
    expect(s.amount.label).toMatch(g.eligible ? /^Solde dû : / : /^Solde à risque : /);
    const gaps = s.blockers.map((b) => b.gap ?? Number.MAX_SAFE_INTEGER);
    expect(gaps).toEqual([...gaps].sort((x, y) => x - y));
    const unmet = g.essms.flatMap((e) =>
      Object.entries(e.indicators)
        .filter(([, r]) => !r.met && (r as Indicator & { mandatory: boolean }).mandatory)
        .map(([id, r]) => ({ id, gap: r.gap ?? 0 })),
    );
    expect(s.blockers).toHaveLength(unmet.length);
    expect(s.blockers_total.dossiers).toBe(
      unmet.filter((u) => u.id !== "mss").reduce((n, u) => n + u.gap, 0),
    );
    expect(s.blockers_total.messages).toBe(
      unmet.filter((u) => u.id === "mss").reduce((n, u) => n + u.gap, 0),
    );
    expect(s.verdict).toMatch(g.eligible ? /^Éligible au solde/ : /^Non éligible au solde/);
    // The shortest path (issue 15 §5): strict = R-G5 for every blocking ESSMS (its dossiers to
    // touch; DMP and MSS gaps as actions of their own); pooled = each unmet pooled gap, added.
    const c = (s as Synthesis & { cheapest: Cheapest | null }).cheapest;
    if (g.eligible) expect(c).toBeNull();
    else {
      expect(c?.strict.map((e) => e.finess).sort()).toEqual(
        [...new Set(s.blockers.map((b) => b.finess))].sort(),
      );
      expect(c?.strict_total.essms).toBe(c?.strict.length);
      expect(c?.strict_total.dossiers).toBe(c?.strict.reduce((n, e) => n + e.dossiers, 0));
      for (const e of c?.strict ?? []) {
        const gap = (id: string) =>
          s.blockers.find((b) => b.finess === e.finess && b.indicator === id)?.gap ?? 0;
        expect(e.actions.dmp, e.finess).toBe(gap("dmp"));
        expect(e.actions.mss, e.finess).toBe(gap("mss"));
        // Each dossier touched takes one action at least, two at most.
        const inDossiers = e.actions.trace + e.actions.projet_personnalise + e.actions.agenda;
        expect(inDossiers).toBeGreaterThanOrEqual(e.dossiers);
        expect(inDossiers).toBeLessThanOrEqual(2 * e.dossiers);
      }
      for (const p of c?.pooled ?? []) {
        expect(p.gap).toBe(g.indicators[p.indicator]?.gap);
        expect(p.from.reduce((n, f) => n + f.count, 0)).toBeLessThanOrEqual(p.gap);
      }
    }

    // A date with no data: no verdict, no red "non éligible".
    const empty = (await (
      await api.get("chef_projet", "/api/grappes/T1?date=2020-01-01")
    ).json()) as GrappeDetail;
    expect(empty.synthesis).toMatchObject({
      status: "aucune_donnee",
      verdict: "Aucune donnée à cette date : pas de verdict.",
      eligible: null,
      eligible_pooled: null,
      amount: { status: null },
      blockers: [],
    });
  });

  it("keeps a frozen report's documents as they were, refuses dates to come and decisions without data", async ({
    db,
  }) => {
    const api = await client(db);
    const frozen = (await (await api.post("ars", "/api/grappes/T1/snapshots", { date: D })).json()) as {
      snapshot_id: number;
    };
    const pdfText = async () =>
      (
        await readPdf(
          await (
            await api.get("ars", `/api/grappes/T1/synthesis.pdf?snapshot=${frozen.snapshot_id}`)
          ).arrayBuffer(),
        )
      ).text;
    const before = await pdfText();
    // An adjustment approved after the freeze changes neither the PDF nor the pack's adjustments.
    const later = await api.post("amoa", "/api/adjustments", {
      ...proposal("340000017", 1, D, "2025-07-31"),
      indicateur: "mss",
    });
    expect(later.status).toBe(201);
    const { amenagement_id } = (await later.json()) as { amenagement_id: number };
    expect(
      (await api.post("ars", `/api/adjustments/${amenagement_id}/decision`, { decision: "APPROUVE" })).status,
    ).toBe(200);
    expect(await pdfText()).toBe(before);
    const zip = unzipSync(
      new Uint8Array(
        await (await api.get("ars", `/api/grappes/T1/evidence?snapshot=${frozen.snapshot_id}`)).arrayBuffer(),
      ),
    );
    const packed = JSON.parse(strFromU8(zip["amenagements.json"] as Uint8Array)) as {
      amenagement_id: number;
    }[];
    expect(packed.some((a) => a.amenagement_id === amenagement_id)).toBe(false);

    // A date to come is not frozen; an early date computes (its window starts before 1990).
    const future = await api.post("ars", "/api/grappes/T1/snapshots", { date: "2099-01-01" });
    expect(future.status).toBe(422);
    expect(((await future.json()) as { detail: string }).detail).toMatch(/date à venir/);
    expect((await api.get("ars", "/api/grappes/T1?date=1990-01-01")).status).toBe(200);
    expect((await api.get("ars", "/api/essms/340000017?date=1990-01-15")).status).toBe(200);
    // A frozen report without data has no verdict to decide on.
    const empty = (await (
      await api.post("ars", "/api/grappes/T1/snapshots", { date: "1990-01-01" })
    ).json()) as {
      snapshot_id: number;
    };
    const decided = await api.post("ars", `/api/grappes/T1/snapshots/${empty.snapshot_id}/decision`, {
      eligible: false,
    });
    expect(decided.status).toBe(422);
    expect(((await decided.json()) as { detail: string }).detail).toMatch(/aucune donnée/);
    expect((await api.get("ars", `/api/grappes/T1/snapshots/${empty.snapshot_id}`)).status).toBe(200);
  });

  it("gives the region view of every grappe in scope at D", async ({ db }) => {
    const api = await client(db);
    const rows = (await (await api.get("ars", `/api/grappes?date=${D}`)).json()) as {
      grappe_id: string;
      measurement_date: string;
      eligible: boolean;
      solde_eur: number;
      solde_status: string | null;
      blocking_essms: number;
      dossiers_missing: number;
      days_to_target: number | null;
      last_import_at: string | null;
    }[];
    expect(rows.map((r) => r.grappe_id)).toEqual(["T1"]); // the ARS of OCC sees OCC only
    const [t1] = rows;
    const detail = (await (await api.get("ars", `/api/grappes/T1?date=${D}`)).json()) as GrappeDetail;
    expect(t1).toMatchObject({
      measurement_date: D,
      eligible: detail.eligible,
      solde_eur: detail.subsidy.solde_eur,
      solde_status: detail.eligible ? "du" : "a_risque",
      blocking_essms: detail.synthesis.blockers_total.essms,
      dossiers_missing: detail.synthesis.blockers_total.dossiers,
    });
    expect(t1?.last_import_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const admin = (await (await api.get("admin", `/api/grappes?date=${D}`)).json()) as {
      grappe_id: string;
    }[];
    expect(admin.map((r) => r.grappe_id)).toEqual(["F1", "T1"]);
  });
});
