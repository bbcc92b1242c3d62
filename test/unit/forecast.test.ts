/** Forecast from the monthly series: least squares over the last 6 points, R-T3 target date. */
import { describe, expect, it } from "vitest";
import { FORECAST_METHOD, forecast, leastSquares, type SeriesPoint } from "../../domain/forecast.ts";

const months = [
  "2025-01-01",
  "2025-02-01",
  "2025-03-01",
  "2025-04-01",
  "2025-05-01",
  "2025-06-01",
  "2025-07-01",
];
const series = (nums: number[], den = 100): SeriesPoint[] =>
  nums.map((numerator, i) => ({ date: months[i] as string, numerator, denominator: den }));

describe("forecast", () => {
  it("fits y = a + b·x by least squares", () => {
    expect(leastSquares([1, 3, 5, 7])).toEqual({ a: 1, b: 2 });
    expect(leastSquares([2, 2, 2])).toEqual({ a: 2, b: 0 });
  });

  it("gives the month the trend reaches the target and what is needed per month by the target date", () => {
    // 60 %, 65 % … 85 % over the last 6 months: +5 points a month, 90 % reached the month after.
    const f = forecast("dossiers_actifs", series([55, 60, 65, 70, 75, 80, 85]), "2025-10-01");
    expect(f).toMatchObject({
      method: FORECAST_METHOD,
      points_used: 6,
      slope_per_month: 0.05,
      status: "atteignable",
      reached_month: "2025-08-01",
      reached_by_target_date: true,
      gap: 5,
      months_left: 3,
      needed_per_month: 2,
    });
    expect(f.message).toBe("au rythme actuel, cible atteinte vers août 2025");
  });

  it("says when the trend reaches the target only after the target date", () => {
    const f = forecast("dossiers_actifs", series([60, 61, 62, 63, 64, 65, 66]), "2025-09-15");
    expect(f.status).toBe("atteignable");
    expect(f.reached_month).toBe("2027-07-01"); // 66 % + 1 point a month: 90 % after 24 months
    expect(f.reached_by_target_date).toBe(false);
    expect(f.needed_per_month).toBe(12); // gap 24 over 2 months
    expect(f.message).toMatch(/après la date cible/);
  });

  it("says « non atteignable au rythme actuel » on a flat or falling trend", () => {
    const flat = forecast("agenda", series([50, 50, 50, 50, 50, 50]), "2025-10-01");
    expect(flat).toMatchObject({
      status: "non_atteignable",
      message: "non atteignable au rythme actuel",
      slope_per_month: 0,
    });
    const falling = forecast("mss", series([69, 68, 67, 66, 65, 64]), null);
    expect(falling).toMatchObject({
      status: "non_atteignable",
      months_left: null,
      needed_per_month: null,
      gap: 6,
    });
    const slow = forecast("agenda", series([10, 10.1, 10.2, 10.3, 10.4, 10.5].map((x) => x)), null);
    expect(slow.message).toMatch(/plus de 36 mois/);
  });

  it("recognises a target already met, and too short a series", () => {
    expect(forecast("dmp", series([60, 70, 71]), "2025-10-01")).toMatchObject({
      status: "atteinte",
      needed_per_month: 0,
      gap: 0,
      reached_month: "2025-03-01",
    });
    expect(forecast("dmp", series([10]), "2025-10-01")).toMatchObject({
      status: "donnees_insuffisantes",
      points_used: 1,
      gap: 60,
      needed_per_month: 7,
    });
    expect(forecast("dmp", [], null).status).toBe("donnees_insuffisantes");
  });

  it("ignores months without a denominator and says the target date has passed", () => {
    const s = series([0, 0, 50, 55, 60, 65, 70]);
    (s[0] as SeriesPoint).denominator = 0;
    (s[1] as SeriesPoint).denominator = 0;
    const f = forecast("dossiers_actifs", s, "2025-06-15");
    expect(f.points_used).toBe(5);
    expect(f.months_left).toBe(0);
    expect(f.needed_per_month).toBeNull();
    expect(f.reached_by_target_date).toBe(false);
  });
});
