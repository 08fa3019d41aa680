#!/usr/bin/env bash
# Starts N bot instances on this machine in webhook mode, on ports 8081.., against the PostgreSQL
# and Redis named in .env (DATABASE_URL, REDIS_URL); see docs/deployment.md. Migrates once first.
# Ctrl-C (or SIGTERM) drains and stops them all.
#   scripts/cluster.sh 2            # or: make cluster N=2
set -euo pipefail
N="${1:-2}"
FIRST_PORT="${FIRST_PORT:-8081}"
PYTHON="${PYTHON:-.venv/bin/python}"
cd "$(dirname "$0")/.."

"$PYTHON" -m bot migrate
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap stop INT TERM
for i in $(seq 0 $((N - 1))); do
  port=$((FIRST_PORT + i))
  TELEGRAM_MODE=webhook WEB_PORT="$port" INSTANCE_NAME="${INSTANCE_PREFIX:-bot}-$port" DEMO_DATA="${DEMO_DATA:-false}" \
    "$PYTHON" -m bot &
  pids+=("$!")
  echo "instance $((i + 1)) of $N: pid $!, port $port"
done
wait
