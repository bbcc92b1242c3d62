/** The dashboard: built into dashboard/dist (served by `npm start`), or served with hot reload by `npm run dev`. */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: "/",
  // DSFR's CSS still carries old IE hacks that LightningCSS would otherwise refuse.
  css: { lightningcss: { errorRecovery: true } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // a report of each chunk's size is printed; the first page's budget is checked by the tests
    reportCompressedSize: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    port: 5173,
    proxy: { "/api": "http://localhost:3000", "/healthz": "http://localhost:3000" },
  },
});
