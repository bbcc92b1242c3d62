/** Setup file of the `integration` project: no child process; no PostgreSQL server when quick (tier-guard.ts). */
import { installTierGuards } from "./tier-guard.ts";

installTierGuards("integration");
