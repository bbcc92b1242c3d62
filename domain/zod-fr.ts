/**
 * zod's own messages in French (zod 4 locale `fr`), for every schema of the process: imported
 * for its effect, once, by each entry point (api/app.ts, cli/main.ts, and any worker thread that
 * validates with zod). Messages written in a schema (`.min(1, "…")`, `refine(…, "…")`) still win:
 * the locale only fills in the issues that carry none.
 */
import { z } from "zod";

z.config(z.locales.fr());
