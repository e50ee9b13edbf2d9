#!/usr/bin/env bash
# Side-by-side HTTP/1.1 benchmark on loopback: the same nginx upstream behind
#   direct      (no proxy: the ceiling of the load generator + upstream)
#   nginx       (plain keep-alive reverse proxy, no auth)
#   haproxy-jwt (HAProxy 2.6 verifying HS256, exp/nbf/aud, jti single-use, identity headers)
#   gateway     (session-gateway: verify + single-use replay + identity headers)
# Runs alternate (ROUNDS rounds) because this machine is shared; the table shows medians and ratios.
# Every authenticated request carries a fresh token (no 401s from replay); non-2xx counts are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6}
CONNS=${CONNS:-64}
TOKENS_PER_RUN=${TOKENS_PER_RUN:-400000}
LOG_LEVEL=${LOG_LEVEL:-warning}
# One loop, like HAProxy nbthread 1 and one nginx worker: all three get the same share of this 2-core box.
LOOPS=${LOOPS:-1}
BIN=${BIN:-.build/release/session-gateway}
work=$(mktemp -d /tmp/sgw-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

[ -x "$BIN" ] || { echo "build first: swift build -c release"; exit 1; }
export SHOPIFY_API_SECRET=s3cr3t
sed "s/\${LOG_LEVEL}/$LOG_LEVEL/" Benchmarks/conf/gateway-bench.yaml > "$work/gateway.yaml"

nginx -c "$PWD/Benchmarks/conf/upstream-nginx.conf" & pids+=($!)
nginx -c "$PWD/Benchmarks/conf/proxy-nginx.conf" & pids+=($!)
haproxy -f Benchmarks/conf/haproxy-jwt.cfg -db >"$work/haproxy.log" 2>&1 & pids+=($!)
"$BIN" serve --config "$work/gateway.yaml" --loops "$LOOPS" >"$work/gateway.out" 2>"$work/gateway.err" & pids+=($!)
for port in 18000 18081 18082 18090; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

targets=(direct nginx haproxy-jwt gateway)
declare -A port=([direct]=18000 [nginx]=18081 [haproxy-jwt]=18082 [gateway]=18090)
echo "minting tokens ($TOKENS_PER_RUN per authenticated run)..."
for r in $(seq 1 "$ROUNDS"); do
  mint=()
  for t in "${targets[@]}"; do
    python3 Benchmarks/mint_tokens.py s3cr3t "$TOKENS_PER_RUN" > "$work/tokens-$t-$r.txt" & mint+=($!)
  done
  wait "${mint[@]}"
done
sleep 1
for r in $(seq 1 "$ROUNDS"); do
  for t in "${targets[@]}"; do
    TOKENS="$work/tokens-$t-$r.txt" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s Benchmarks/tokens.lua \
      "http://127.0.0.1:${port[$t]}/" -- /api/customer > "$work/wrk-$t-$r.txt" 2>&1 || true
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$t-$r.txt")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk-$t-$r.txt"); non2xx=${non2xx:-0}
    printf "round %d %-12s %10s req/s  non-2xx %s\n" "$r" "$t" "${rps:-?}" "$non2xx"
  done
done

python3 - "$work" "$ROUNDS" <<'PY'
import re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def unit(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    x = float(m.group(1)); return x / 1000 if m.group(2) == "us" else (x if m.group(2) == "ms" else x * 1000)
rows = {}
for t in ["direct", "nginx", "haproxy-jwt", "gateway"]:
    rps, p50, p99, bad = [], [], [], 0
    for r in range(1, rounds + 1):
        txt = open(f"{work}/wrk-{t}-{r}.txt").read()
        m = re.search(r"Requests/sec:\s+([\d.]+)", txt)
        if m: rps.append(float(m.group(1)))
        m = re.search(r"\s50%\s+(\S+)", txt);  p50.append(unit(m.group(1))) if m else None
        m = re.search(r"\s99%\s+(\S+)", txt);  p99.append(unit(m.group(1))) if m else None
        m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", txt); bad += int(m.group(1)) if m else 0
    rows[t] = (statistics.median(rps) if rps else 0, statistics.median(p50) if p50 else 0, statistics.median(p99) if p99 else 0, bad)
print()
print(f"{'target':<12} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
for t, (rps, p50, p99, bad) in rows.items():
    print(f"{t:<12} {rps:>10.0f} {p50:>8.2f} {p99:>8.2f} {bad:>8}")
g, h, n = rows["gateway"][0], rows["haproxy-jwt"][0], rows["nginx"][0]
if h and n:
    print(f"\ngateway / haproxy-jwt = {g / h:.2f}x   (target >= 1.0x, goal 1.5x)")
    print(f"gateway / nginx plain = {g / n:.2f}x   (goal 0.9x)")
PY
echo "raw output in $work"
