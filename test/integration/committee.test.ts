/**
 * The steering committee's page (issue 30 §9) on both backends: its rates are the grappe page's
 * at D, one month and one quarter before, their moves the differences in points; its blockers
 * and actions those of the grappe; its PDF one A4 page in French words.
 */
import { expect } from "vitest";
import { createApp } from "../../api/app.ts";
import { addDays, addMonths, todayParis } from "../../domain/dates.ts";
import { INDICATOR_IDS } from "../../domain/indicators.ts";
import { createAction } from "../../services/actions.ts";
import { agendaAction, jsonInit, LOCAL_ORIGIN, PASSWORD, populate, USERS } from "../support/api-helpers.ts";
import { describeOnBackends, it } from "../support/backend-test.ts";
import { SECRET } from "../support/helpers.ts";
import { readPdf } from "../support/pdf.ts";

const D = "2025-07-01";

interface Detail {
  indicators: Record<string, { rate: number | null; met: boolean }>;
  essms_meeting_all: number;
  synthesis: { verdict: string; blockers: unknown[]; days_left_label: string | null };
}
interface Brief {
  measurement_date: string;
  region_label: string;
  verdict: string;
  days_left_label: string | null;
  indicators: {
    indicator: string;
    rate: number | null;
    earlier: { date: string; rate: number | null; delta_points: number | null; label: string }[];
  }[];
  essms_meeting_all: { now: number; earlier: { date: string; count: number | null }[] };
  blocker_count: { now: number };
  blockers: { gap_label: string }[];
  actions: {
    overdue: { description: string }[];
    due_this_week: { description: string }[];
    open: number;
    done_since_last_month: number;
  };
}

describeOnBackends("the steering committee's page", { seed: populate }, () => {
  it("gives the grappe page's rates at D, a month and a quarter before, with their moves, its blockers and the week's actions; its PDF is one page", async ({
    db,
  }) => {
    const app = createApp({ db, secret: SECRET, log: () => {} });
    const login = await app.request(
      "/api/session",
      jsonInit({ email: USERS.chef_projet?.email, password: PASSWORD }),
    );
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    const get = (path: string) => app.request(path, { headers: { cookie, origin: LOCAL_ORIGIN } });
    const today = todayParis();
    const action = (description: string, due: string | null, status: "A_FAIRE" | "FAIT") =>
      createAction(db, { ...agendaAction("340000017"), description, due_date: due, status }, "T1", "test");
    await action("relancer les éducateurs (en retard)", addDays(today, -3), "A_FAIRE");
    await action("former l'équipe de nuit (cette semaine)", addDays(today, 2), "A_FAIRE");
    await action("paramétrer l'agenda (faite)", null, "FAIT");

    const res = await get(`/api/grappes/T1/comite?date=${D}`);
    expect(res.status).toBe(200);
    const brief = (await res.json()) as Brief;
    // The grappe page at a date (null when the grappe had nothing to measure then: 404).
    const at = async (d: string) => {
      const r = await get(`/api/grappes/T1?date=${d}`);
      return r.status === 404 ? null : ((await r.json()) as Detail);
    };
    // One after the other: a person runs at most two expensive requests at once (429 beyond).
    const now = await at(D);
    const month = await at(addMonths(D, -1));
    const quarter = await at(addMonths(D, -3));

    if (!now) throw new Error("la grappe T1 doit avoir des données au 01/07/2025");
    expect(brief).toMatchObject({
      measurement_date: D,
      region_label: "Occitanie",
      verdict: now.synthesis.verdict,
      days_left_label: now.synthesis.days_left_label,
    });
    expect(brief.indicators.map((i) => i.indicator)).toEqual([...INDICATOR_IDS]);
    for (const i of brief.indicators) {
      expect(i.rate).toBe(now.indicators[i.indicator]?.rate);
      const [m, q] = i.earlier;
      expect(m?.date).toBe("2025-06-01");
      expect(q?.date).toBe("2025-04-01");
      expect(m?.rate).toBe(month?.indicators[i.indicator]?.rate ?? null);
      expect(q?.rate).toBe(quarter?.indicators[i.indicator]?.rate ?? null);
      // The move, in points to one decimal, is the difference of the two rates.
      for (const e of [m, q]) {
        const then = e?.rate ?? null;
        if (i.rate === null || then === null) {
          expect(e?.delta_points).toBeNull();
          expect(e?.label).toBe("pas de mesure");
        } else {
          expect(e?.delta_points).toBeCloseTo(Math.round((i.rate - then) * 1000) / 10, 10);
          expect(e?.label).toMatch(/(points?|stable) depuis le /);
        }
      }
    }
    expect(brief.essms_meeting_all.now).toBe(now.essms_meeting_all);
    expect(brief.essms_meeting_all.earlier[0]?.count).toBe(month?.essms_meeting_all ?? null);
    expect(brief.blocker_count.now).toBe(now.synthesis.blockers.length);
    for (const b of brief.blockers)
      expect(b.gap_label).toMatch(
        /^\d+ (dossiers? manquants?|messages? MS Santé manquants?)$|^cible non atteinte$/,
      );
    expect(brief.actions.overdue.map((a) => a.description)).toEqual(["relancer les éducateurs (en retard)"]);
    expect(brief.actions.due_this_week.map((a) => a.description)).toEqual([
      "former l'équipe de nuit (cette semaine)",
    ]);
    expect(brief.actions).toMatchObject({ open: 2, done_since_last_month: 1 });

    const pdf = await get(`/api/grappes/T1/comite.pdf?date=${D}`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    const read = await readPdf(await pdf.arrayBuffer());
    expect(read.pages).toBe(1);
    expect(read.text).toContain("Comité de pilotage - Grappe test (T1)");
    expect(read.text).toContain("Occitanie - situation au 01/07/2025");
    expect(read.text).toContain(now.synthesis.verdict.slice(0, 40));
    expect(read.text).toContain("Il y a un mois (01/06/2025)");
    expect(read.text).toContain("relancer les éducateurs (en retard)");
    expect(read.text).not.toMatch(/\(s\)|OCC\b/);

    // Out of scope: the same 404 as an unknown grappe.
    expect((await get(`/api/grappes/F1/comite?date=${D}`)).status).toBe(404);
  });
});
