/** Setup file of the `unit` project: no child process, no database (tier-guard.ts). */
import { installTierGuards } from "./tier-guard.ts";

installTierGuards("unit");
