#!/usr/bin/env bash
# `make run`: the bundled echo backend on 127.0.0.1:3000 and the gateway on gateway.yaml in front of it.
set -euo pipefail
bin=${1:-.build/release/session-gateway}
config=${2:-gateway.yaml}
if [ -z "${SHOPIFY_API_SECRET:-}" ]; then
  export SHOPIFY_API_SECRET=dev-secret-change-me
  echo "SHOPIFY_API_SECRET is unset: using the DEVELOPMENT secret '$SHOPIFY_API_SECRET'."
  echo "To mint tokens this gateway accepts, run in your shell:  export SHOPIFY_API_SECRET=$SHOPIFY_API_SECRET"
fi
"$bin" echo-backend --listen 127.0.0.1:3000 &
echo_pid=$!
trap 'kill $echo_pid 2>/dev/null || true' EXIT
echo "echo backend on 127.0.0.1:3000 (pid $echo_pid); gateway on $config (Ctrl-C to stop)"
echo "try:  curl -s -H \"Authorization: Bearer \$($bin token mint --config $config --shop any.myshopify.com)\" http://127.0.0.1:8080/hello"
"$bin" serve --config "$config"
