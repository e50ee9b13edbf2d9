#!/usr/bin/env bash
# Side-by-side HTTP/2 benchmark on loopback, h2load -c 4 -m 16 against the same nginx upstream through
#   nghttpx     (plain h2c -> HTTP/1.1 proxy, no auth; Debian nghttp2-proxy)
#   gateway-h2c (session-gateway, h2c prior knowledge: verify + identity headers, replay off)
#   gateway-tls (session-gateway, TLS 1.3 + ALPN h2, same job)
# Rounds alternate because the machine is shared; the table shows medians and the ratios
# gateway-h2c/nghttpx and gateway-tls/gateway-h2c. h2load repeats one token, hence replay off.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-100000}
CLIENTS=${CLIENTS:-4}
STREAMS=${STREAMS:-16}
# Access logs on both sides or on neither: LOGS=on gives the gateway level info (its access log, to a file) and
# nghttpx an access-log file; the default is neither (nghttpx logs nothing without --accesslog-file).
LOGS=${LOGS:-off}
if [ "$LOGS" = on ]; then LOG_LEVEL=${LOG_LEVEL:-info}; else LOG_LEVEL=${LOG_LEVEL:-warning}; fi
# One loop for the gateway, one worker for nghttpx: the same share of the box.
LOOPS=${LOOPS:-1}
BIN=${BIN:-.build/release/session-gateway}
work=$(mktemp -d /tmp/sgw-bench-h2.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

[ -x "$BIN" ] || { echo "build first: swift build -c release"; exit 1; }
export SHOPIFY_API_SECRET=s3cr3t
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/key.pem" \
  -out "$work/cert.pem" -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
sed -e "s#\${LOG_LEVEL}#$LOG_LEVEL#" -e "s#\${WORK}#$work#g" Benchmarks/conf/gateway-bench-h2.yaml > "$work/gateway.yaml"

nginx -c "$PWD/Benchmarks/conf/upstream-nginx.conf" & pids+=($!)
nghttpx_log=()
[ "$LOGS" = on ] && nghttpx_log=(--accesslog-file="$work/nghttpx-access.log")
nghttpx -f'127.0.0.1,18084;no-tls' -b'127.0.0.1,18000' -n1 --no-ocsp --errorlog-file="$work/nghttpx.err" \
  "${nghttpx_log[@]}" >"$work/nghttpx.out" 2>&1 & pids+=($!)
"$BIN" serve --config "$work/gateway.yaml" --loops "$LOOPS" >"$work/gateway.out" 2>"$work/gateway.err" & pids+=($!)
gateway_pid=$!
for port in 18000 18084 18091; do
  for _ in $(seq 1 100); do curl -s --http2-prior-knowledge -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
token=$("$BIN" token mint --config "$work/gateway.yaml" --shop bench.myshopify.com --ttl 15m)
# CPU time per request of the proxy process (user + system, from /proc), steadier than req/s on a shared box.
# nghttpx does the work in its one worker, a child of the master.
nghttpx_worker=$(pgrep -P "$(pgrep -o -x nghttpx)" -x nghttpx | head -1)
declare -A cpu_pid=([nghttpx]=$nghttpx_worker [gateway-h2c]=$gateway_pid [gateway-tls]=$gateway_pid)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

targets=(nghttpx gateway-h2c gateway-tls)
declare -A url=([nghttpx]=http://127.0.0.1:18084/api/customer
                [gateway-h2c]=http://127.0.0.1:18091/api/customer
                [gateway-tls]=https://127.0.0.1:18443/api/customer)
for r in $(seq 1 "$ROUNDS"); do
  # The order alternates so neither proxy always runs first after the other's traffic.
  order=("${targets[@]}")
  (( r % 2 == 0 )) && order=(gateway-h2c nghttpx gateway-tls)
  for t in "${order[@]}"; do
    before=$(ticks "${cpu_pid[$t]}")
    h2load -n "$REQUESTS" -c "$CLIENTS" -m "$STREAMS" -H "Authorization: Bearer $token" "${url[$t]}" \
      > "$work/h2load-$t-$r.txt" 2>&1 || true
    after=$(ticks "${cpu_pid[$t]}")
    us=$(awk -v t=$((after - before)) -v n="$REQUESTS" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
    echo "$us" > "$work/cpu-$t-$r.txt"
    rps=$(awk '/^finished in/ {print $4}' "$work/h2load-$t-$r.txt")
    codes=$(grep '^status codes' "$work/h2load-$t-$r.txt" | sed 's/status codes: //')
    printf "round %d %-12s %10s req/s  %6s us CPU/req  %s\n" "$r" "$t" "${rps:-?}" "$us" "$codes"
  done
done

python3 - "$work" "$ROUNDS" <<'PY'
import math, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
rows, per_round = {}, {}
for t in ["nghttpx", "gateway-h2c", "gateway-tls"]:
    rps, means, cpus = [], [], []
    for r in range(1, rounds + 1):
        cpus.append(float(open(f"{work}/cpu-{t}-{r}.txt").read()))
        text = open(f"{work}/h2load-{t}-{r}.txt").read()
        m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
        if m: rps.append(float(m.group(1)))
        m = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", text)
        if m:
            v = m.group(1); x = float(re.match(r"[\d.]+", v).group(0))
            means.append(x / 1000 if v.endswith("us") else (x * 1000 if v.endswith("s") and not v.endswith("ms") else x))
    rows[t] = (statistics.median(rps) if rps else 0, statistics.median(means) if means else 0, statistics.median(cpus))
    per_round[t] = (rps, cpus)
print()
print(f"| target | req/s (median of {rounds}) | mean request time ms | proxy CPU us/request |")
print("|---|---:|---:|---:|")
for t, (rps, mean, cpu) in rows.items():
    print(f"| {t} | {rps:,.0f} | {mean:.2f} | {cpu:.1f} |")
base, h2c, tls = rows["nghttpx"][0], rows["gateway-h2c"][0], rows["gateway-tls"][0]
print()
if base: print(f"gateway-h2c / nghttpx   = {h2c / base:.2f}x  (target >= 1.0x)")
if h2c: print(f"gateway-tls / gateway-h2c = {tls / h2c:.2f}x  (target >= 0.8x)")
# The machine's speed drifts between rounds; a ratio taken within each round (the two runs are back to back)
# cancels most of that drift.
(g_rps, g_cpu), (n_rps, n_cpu) = per_round["gateway-h2c"], per_round["nghttpx"]
if len(g_rps) == len(n_rps) == rounds and all(n_rps):
    ratios = [g / n for g, n in zip(g_rps, n_rps)]
    cpu_ratios = [n / g for g, n in zip(g_cpu, n_cpu) if g]
    print(f"per-round gateway-h2c / nghttpx: median {statistics.median(ratios):.2f}x, "
          f"range {min(ratios):.2f}-{max(ratios):.2f}, {sum(x >= 1 for x in ratios)} of {rounds} rounds >= 1.0x")
    # A distribution-free interval for that median: the k-th smallest and k-th largest ratio, k the largest with
    # P(Binomial(n, 1/2) < k) <= 2.5%. It says whether the rounds can tell the median apart from 1.0x.
    n, k = len(ratios), 0
    while k + 1 <= n // 2 and sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n <= 0.025:
        k += 1
    if k > 0:
        s = sorted(ratios)
        lo, hi = s[k - 1], s[n - k]
        cover = 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2 ** n
        verdict = "above 1.0x" if lo >= 1 else ("below 1.0x" if hi < 1 else "not told apart from 1.0x")
        print(f"  {cover:.0%} interval for that median: {lo:.2f}-{hi:.2f} ({verdict})")
    print(f"per-round nghttpx CPU / gateway-h2c CPU: median {statistics.median(cpu_ratios):.2f}x")
PY
