#!/usr/bin/env bash
# With compose.yaml up: mints a token, sends it to gateway A (200), then to gateway B (401 token_replayed).
set -euo pipefail
cd "$(dirname "$0")"
compose=${COMPOSE:-docker compose}
token=$($compose exec -T gateway-a session-gateway token mint --config /etc/session-gateway/gateway.yaml --shop demo.myshopify.com --customer 42)
echo "gateway A (first use):"
curl -s -w '\nHTTP %{http_code}\n' -H "Authorization: Bearer $token" http://127.0.0.1:8081/hello
echo "gateway B (same token):"
curl -s -w '\nHTTP %{http_code}\n' -H "Authorization: Bearer $token" http://127.0.0.1:8082/hello
