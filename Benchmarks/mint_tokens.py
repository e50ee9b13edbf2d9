#!/usr/bin/env python3
"""Mint N distinct Shopify-style session tokens (HS256), one a line, for load tests.
usage: mint_tokens.py SECRET N [--exp-in S] [--aud A] [--dest D] [--no-sub]"""
import argparse, base64, hashlib, hmac, json, os, sys, time


def b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("secret")
    ap.add_argument("n", type=int)
    ap.add_argument("--exp-in", type=int, default=3600)
    ap.add_argument("--aud", default="test-client-id")
    ap.add_argument("--dest", default="store-name.myshopify.com")
    ap.add_argument("--no-sub", action="store_true")
    a = ap.parse_args()
    key = a.secret.encode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    now = int(time.time())
    prefix = os.urandom(6).hex()
    out = []
    for i in range(a.n):
        claims = {"dest": a.dest, "aud": a.aud, "exp": now + a.exp_in, "nbf": now - 5, "iat": now - 5,
                  "jti": f"{prefix}-{i:08d}"}
        if not a.no_sub:
            claims["sub"] = f"gid://shopify/Customer/{1000 + i}"
        si = header + b"." + b64(json.dumps(claims, separators=(",", ":")).encode())
        out.append((si + b"." + b64(hmac.new(key, si, hashlib.sha256).digest())).decode())
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
