#!/usr/bin/env bash
# The production path (issue 13.8), checked from a copy of the tracked files:
#   1. `npm start` answers /healthz, and SIGTERM sent to npm stops the server (no child survives);
#   2. `npm ci && npm run build && npm prune --omit=dev`, then `node dist/cli/main.js serve` and the
#      `cibles` bin answer /healthz and serve the dashboard with no dev dependency installed.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work"
cd "$work"
export NPM_CONFIG_LOGLEVEL=error DEMO=0 PSEUDONYMISATION_SECRET=verification-production-0123456789 HOST=127.0.0.1
unset DATABASE_URL

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_health() { # port, pid
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "le serveur s'est arrêté avant de répondre"; return 1; }
    sleep 0.5
  done
  echo "pas de réponse de /healthz"; return 1
}
stopped() { # port
  for _ in $(seq 1 40); do
    curl -fsS "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 || return 0
    sleep 0.25
  done
  return 1
}

echo "▶ installation (npm ci)"
npm ci --no-audit --no-fund >/dev/null

echo "▶ npm start, puis SIGTERM à npm"
port=$(free_port)
DATA_DIR="$work/data-start" PORT=$port npm start >"$work/start.log" 2>&1 &
npm_pid=$!
wait_health "$port" "$npm_pid" || { cat "$work/start.log"; exit 1; }
kill -TERM "$npm_pid"
wait "$npm_pid" || true
stopped "$port" || { echo "ÉCHEC : le serveur répond encore après SIGTERM à npm start"; exit 1; }
echo "  arrêté proprement"

echo "▶ construction, puis suppression des dépendances de développement"
npm run build --silent
npm prune --omit=dev --no-audit --no-fund >/dev/null
for dev in tsx vite typescript vitest; do
  if [ -e "node_modules/$dev" ]; then echo "ÉCHEC : $dev encore installé"; exit 1; fi
done

echo "▶ node dist/cli/main.js serve"
port=$(free_port)
# With the demo grappe, as `npm start` gives a newcomer: the generator runs compiled too.
DEMO=1 DATA_DIR="$work/data-prod" PORT=$port node dist/cli/main.js serve >"$work/prod.log" 2>&1 &
pid=$!
wait_health "$port" "$pid" || { cat "$work/prod.log"; exit 1; }
curl -fsS "http://127.0.0.1:$port/" | grep -q 'id="contenu"' || { echo "ÉCHEC : tableau de bord absent"; exit 1; }
curl -fsS "http://127.0.0.1:$port/api/openapi.json" >/dev/null
grep -q "Démonstration chargée" "$work/prod.log" || { echo "ÉCHEC : démonstration non chargée"; cat "$work/prod.log"; exit 1; }
kill -TERM "$pid"; wait "$pid" || true
stopped "$port" || { echo "ÉCHEC : le serveur compilé ne s'arrête pas"; exit 1; }

echo "▶ le programme cibles (bin) compilé"
DATA_DIR="$work/data-prod" node bin/cibles.mjs users list >/dev/null

echo "Chemin de production vérifié : /healthz, tableau de bord et arrêt par SIGTERM, sans dépendance de développement."
