#!/usr/bin/env bash
# Admissions per second and p50/p99 latency of weft-injector's POST /mutate
# over TLS with keep-alive (wrk), next to GET /healthz on the same server as
# the baseline: the difference is the cost of decoding, injecting and
# encoding one recorded AdmissionReview. Target: p99 under 5 ms.
#
#   bench/webhook/run.sh [SECONDS] [CONNECTIONS]     (defaults: 5, 4)
# Needs a build (WEFT_BUILD_DIR, default build/) with weft-injector, plus wrk,
# and openssl.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN=${1:-5}
CONNECTIONS=${2:-4}
BUILD_DIR=${WEFT_BUILD_DIR:-build}
INJECTOR=$BUILD_DIR/webhook/weft-injector
[[ -x $INJECTOR ]] || { echo "run.sh: $INJECTOR not built" >&2; exit 1; }
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed" >&2; exit 1; }

WORK=$(mktemp -d)
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
# review.json: the recorded admission-pod-create request (tests/fixtures/k8s),
# opted in by annotation and given an HTTP readiness probe.
cp bench/webhook/review.json "$WORK/review.json"

"$INJECTOR" --listen 127.0.0.1:0 --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" \
  --kube-version v1.30.0 --threads 2 --log-level info >"$WORK/injector.log" 2>&1 &
PID=$!
PORT=""
for _ in $(seq 100); do
  PORT=$(grep -o 'serving on port [0-9]*' "$WORK/injector.log" | awk '{print $4}' || true)
  [[ -n $PORT ]] && break
  sleep 0.1
done
[[ -n $PORT ]] || { cat "$WORK/injector.log" >&2; exit 1; }
URL=https://127.0.0.1:$PORT

# Sanity: the answer really is an injection patch.
curl -sk --data-binary @"$WORK/review.json" -H 'Content-Type: application/json' \
  "$URL/mutate?timeout=5s" | grep -q '"patchType":"JSONPatch"' \
  || { echo "run.sh: /mutate did not answer with a patch" >&2; exit 1; }

echo "== GET /healthz (baseline: TLS + HTTP only), ${SECONDS_RUN}s, $CONNECTIONS connections"
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency "$URL/healthz" | grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors' || true
echo "== POST /mutate (recorded AdmissionReview, injected), ${SECONDS_RUN}s, $CONNECTIONS connections"
WEFT_BENCH_BODY=$WORK/review.json wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency \
  -s bench/webhook/post.lua "$URL/mutate?timeout=5s" | grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors|^bench:'
echo "== injector's own histogram"
curl -sk "$URL/metrics" | grep -E 'admissions_total|duration_seconds_(count|sum)'
