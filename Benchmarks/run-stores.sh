#!/usr/bin/env bash
# Replay store comparison, HTTP/1.1 on loopback, all in one run: the same gateway build (one loop) in front of the
# same nginx upstream, once per store:
#   memory       replay.store: memory
#   redis        a local redis-server (no persistence), plain TCP
#   redis-tls    the same over TLS (rediss://, CA-verified), if the build knows replay.redis.tls
#   cluster      a three-master Redis Cluster (redis+cluster://), if the build knows it
# Runs alternate (ROUNDS rounds); every request carries a fresh token; the table shows medians and the ratio to
# the memory store (goal: redis >= 0.7x).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6}
CONNS=${CONNS:-64}
TOKENS_PER_RUN=${TOKENS_PER_RUN:-400000}
LOOPS=${LOOPS:-1}
STORES=${STORES:-"memory redis redis-tls cluster"}
BIN=${BIN:-.build/release/session-gateway}
work=$(mktemp -d /tmp/sgw-stores.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

[ -x "$BIN" ] || { echo "build first: swift build -c release"; exit 1; }
export SHOPIFY_API_SECRET=s3cr3t
redis() { redis-server --save "" --appendonly no --daemonize no --dir "$work" --logfile "$work/$1.log" "${@:2}" & pids+=($!); }

nginx -c "$PWD/Benchmarks/conf/upstream-nginx.conf" & pids+=($!)
declare -A port replay gwpid
# CPU ticks (user + system) the gateway process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
port[memory]=18090; replay[memory]='  store: memory'
port[redis]=18091; replay[redis]='  store: redis
  redis: {url: "redis://127.0.0.1:16379/0"}'
redis plain --port 16379

if [[ " $STORES " == *" redis-tls "* ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout "$work/redis.key" -out "$work/redis.csr" 2>/dev/null
  printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" > "$work/san.ext"
  openssl x509 -req -in "$work/redis.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/san.ext" -out "$work/redis.crt" 2>/dev/null
  redis tls --port 0 --tls-port 16380 --tls-cert-file "$work/redis.crt" --tls-key-file "$work/redis.key" \
    --tls-ca-cert-file "$work/ca.crt" --tls-auth-clients no
  port[redis-tls]=18092; replay[redis-tls]="  store: redis
  redis:
    url: \"rediss://127.0.0.1:16380/0\"
    tls: {ca_file: \"$work/ca.crt\"}"
fi
if [[ " $STORES " == *" cluster "* ]]; then
  for p in 17001 17002 17003; do
    mkdir -p "$work/c$p"
    redis-server --port $p --cluster-enabled yes --cluster-config-file "$work/c$p/nodes.conf" --save "" \
      --appendonly no --dir "$work/c$p" --logfile "$work/c$p/log" & pids+=($!)
  done
  sleep 0.5
  redis-cli --cluster create 127.0.0.1:17001 127.0.0.1:17002 127.0.0.1:17003 --cluster-replicas 0 --cluster-yes >/dev/null
  for _ in $(seq 1 100); do redis-cli -p 17001 cluster info | grep -q cluster_state:ok && break; sleep 0.1; done
  port[cluster]=18093; replay[cluster]='  store: redis
  redis: {url: "redis+cluster://127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003"}'
fi

targets=()
for s in $STORES; do
  [ -n "${port[$s]:-}" ] || continue
  sed -e "s/127.0.0.1:18090/127.0.0.1:${port[$s]}/" -e "s/127.0.0.1:19901/127.0.0.1:1$((9900 + ${port[$s]} - 18089))/" \
      -e "s/\${LOG_LEVEL}/warning/" Benchmarks/conf/gateway-bench.yaml > "$work/gateway-$s.yaml"
  printf "replay:\n%s\n" "${replay[$s]}" >> "$work/gateway-$s.yaml"
  if ! "$BIN" check --config "$work/gateway-$s.yaml" >"$work/check-$s.txt" 2>&1; then
    echo "skipping $s: this build refuses its config ($(head -1 "$work/check-$s.txt"))"
    continue
  fi
  "$BIN" serve --config "$work/gateway-$s.yaml" --loops "$LOOPS" >"$work/gateway-$s.out" 2>"$work/gateway-$s.err" & pids+=($!)
  gwpid[$s]=$!
  targets+=("$s")
done
for s in "${targets[@]}"; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:${port[$s]}/" && break; sleep 0.1; done
done
echo "stores: ${targets[*]}; minting tokens ($TOKENS_PER_RUN per run)..."
for r in $(seq 1 "$ROUNDS"); do
  mint=()
  for s in "${targets[@]}"; do
    python3 Benchmarks/mint_tokens.py s3cr3t "$TOKENS_PER_RUN" > "$work/tokens-$s-$r.txt" & mint+=($!)
  done
  wait "${mint[@]}"
done
for r in $(seq 1 "$ROUNDS"); do
  for s in "${targets[@]}"; do
    before=$(cpu_ticks "${gwpid[$s]}")
    TOKENS="$work/tokens-$s-$r.txt" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s Benchmarks/tokens.lua \
      "http://127.0.0.1:${port[$s]}/" -- /api/customer > "$work/wrk-$s-$r.txt" 2>&1 || true
    echo $(( $(cpu_ticks "${gwpid[$s]}") - before )) > "$work/cpu-$s-$r.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$s-$r.txt")
    non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk-$s-$r.txt"); non2xx=${non2xx:-0}
    printf "round %d %-10s %10s req/s  non-2xx %s\n" "$r" "$s" "${rps:-?}" "$non2xx"
  done
done

python3 - "$work" "$ROUNDS" "$(getconf CLK_TCK)" "${targets[@]}" <<'PY'
import re, statistics, sys
work, rounds, hz, targets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def unit(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    x = float(m.group(1)); return x / 1000 if m.group(2) == "us" else (x if m.group(2) == "ms" else x * 1000)
rows = {}
for t in targets:
    rps, p50, p99, bad, cpu = [], [], [], 0, []
    for r in range(1, rounds + 1):
        txt = open(f"{work}/wrk-{t}-{r}.txt").read()
        m = re.search(r"Requests/sec:\s+([\d.]+)", txt)
        if m: rps.append(float(m.group(1)))
        m2 = re.search(r"(\d+) requests in", txt)
        if m2 and int(m2.group(1)) > 0:
            cpu.append(int(open(f"{work}/cpu-{t}-{r}.txt").read()) / hz / int(m2.group(1)) * 1e6)
        m = re.search(r"\s50%\s+(\S+)", txt);  p50.append(unit(m.group(1))) if m else None
        m = re.search(r"\s99%\s+(\S+)", txt);  p99.append(unit(m.group(1))) if m else None
        m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", txt); bad += int(m.group(1)) if m else 0
    rows[t] = (statistics.median(rps) if rps else 0, statistics.median(p50) if p50 else 0, statistics.median(p99) if p99 else 0, bad,
               statistics.median(cpu) if cpu else 0)
base = rows.get("memory", (0,))[0]
print()
print("gateway CPU = the gateway process's user+system time per request (the load generator and Redis not counted)")
print(f"{'store':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'/ memory':>9} {'gateway CPU us/req':>19}")
for t, (rps, p50, p99, bad, cpu) in rows.items():
    ratio = f"{rps / base:.2f}x" if base else "-"
    print(f"{t:<10} {rps:>10.0f} {p50:>8.2f} {p99:>8.2f} {bad:>8} {ratio:>9} {cpu:>19.1f}")
PY
