#!/usr/bin/env bash
# `make image-test`: builds the container image of deploy/Dockerfile and runs it for real, without any registry.
#   1. a Debian 12 base made by debootstrap (in the background while 2. compiles) and `podman import`, cached in
#      .build/image/, standing for debian:12-slim;
#   2. a static release binary (the Swift runtime linked in) -> deploy/dist/session-gateway;
#   3. `podman build --build-arg BINARY_FROM=context` on that base, with --pull=never;
#   4. the image run read-only on host networking: the baked config passes `check`, a minted token goes through to the
#      echo backend (200, X-Shop-Domain), a bad one gets 401, the process runs as uid 65532, and SIGTERM exits 0.
# Runs as root (podman rootful, debootstrap); installs podman, runc and debootstrap when missing. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
IMAGE=localhost/session-gateway:test
BASE=localhost/session-gateway-base:bookworm
CACHE=.build/image                          # the base's tarball and the logs
SCRATCH=.build/static                       # the static build, apart from the normal .build/release
BASE_TAR=$CACHE/base-bookworm-minbase.tar
UID_GID=65532                               # the image's user (deploy/Dockerfile)

fail() { echo "image-test: FAILED: $*" >&2; exit 1; }
step() { echo "image-test: $*"; }

[ "$(id -u)" = 0 ] || fail "run as root (podman builds and runs rootful, debootstrap needs root)"

# --- tools --------------------------------------------------------------------------------------------------------
missing=()
for p in podman runc debootstrap curl python3; do
  # Installed, not merely known: `dpkg -s` also succeeds for a removed package that left its config files.
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 \
    "${missing[@]}" >/dev/null
fi
# runc, not crun; cgroupfs, not systemd: what works on these machines (no systemd session, cgroup v1).
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
# podman's default nofile (1048576) is above the hard limit here, and a large nproc is refused: give both explicitly.
hard_nofile=$(ulimit -Hn)
if [ "$hard_nofile" = unlimited ] || [ "$hard_nofile" -gt 65536 ]; then nofile=65536; else nofile=$hard_nofile; fi
ulimits=(--ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096)

mkdir -p "$CACHE"
tmp=$(mktemp -d /tmp/session-gateway-image-test.XXXXXX)
containers=()
base_pid=""
cleanup() {
  local c
  for c in "${containers[@]}"; do "${podman[@]}" rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
  # A debootstrap still running is left to finish: killed, it could leave /proc and /sys mounted in its root.
  if [ -n "$base_pid" ]; then echo "image-test: waiting for debootstrap to finish" >&2; wait "$base_pid" || true; fi
}
trap cleanup EXIT

# --- 1. the base tarball, in the background -----------------------------------------------------------------------
# The host's Debian mirror for $1 (debian, debian-security): `deb [opts] URL ...` or deb822 `URIs: URL`, URL ending
# in /$1, so the image build reaches the same archive as apt here.
debian_mirror() {
  local f sources=() line='^(deb[[:space:]]+(\[[^]]*\][[:space:]]+)?|URIs:[[:space:]]*)'
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    if [ -f "$f" ]; then sources+=("$f"); fi
  done
  sed -n -E "s#$line(https?://[^[:space:]]+/$1)/?([[:space:]].*)?\$#\3#p" "${sources[@]}" /dev/null | head -n 1
}
make_base_tar() {
  set -euo pipefail
  local mirror security rootfs
  rootfs=$PWD/$CACHE/rootfs
  mirror=$(debian_mirror debian); mirror=${mirror:-http://deb.debian.org/debian}
  security=$(debian_mirror debian-security); security=${security:-http://deb.debian.org/debian-security}
  # What an interrupted run may have left mounted there, then the rest of it.
  awk -v root="${rootfs:?}/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m"
  done
  rm -rf "${rootfs:?}"
  echo "debootstrap --variant=minbase bookworm $rootfs $mirror"
  debootstrap --variant=minbase bookworm "${rootfs:?}" "$mirror"
  [ -f "${rootfs:?}/etc/debian_version" ] || { echo "no Debian root in $rootfs"; return 1; }
  # As debian:12-slim: the three suites in deb822 form, no docs, man pages or locales, no package lists or .debs.
  rm -f "${rootfs:?}/etc/apt/sources.list"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: %s\n\n' \
    "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg >"${rootfs:?}/etc/apt/sources.list.d/debian.sources"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: %s\n' \
    "$security" /usr/share/keyrings/debian-archive-keyring.gpg >>"${rootfs:?}/etc/apt/sources.list.d/debian.sources"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
    >"${rootfs:?}/etc/dpkg/dpkg.cfg.d/slim"
  find "${rootfs:?}/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "${rootfs:?}/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "${rootfs:?}"/usr/share/man/* "${rootfs:?}"/usr/share/info/* "${rootfs:?}"/var/lib/apt/lists/* \
    "${rootfs:?}"/var/cache/apt/archives/*.deb
  tar -C "${rootfs:?}" --numeric-owner -cf "$BASE_TAR.tmp" .
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "${rootfs:?}"
}
if ! "${podman[@]}" image exists "$BASE" && [ ! -s "$BASE_TAR" ]; then
  step "debootstrap --variant=minbase bookworm, in the background (once; log: $CACHE/debootstrap.log)"
  make_base_tar >"$CACHE/debootstrap.log" 2>&1 &
  base_pid=$!
fi

# --- 2. the static binary ------------------------------------------------------------------------------------------
step "building the static binary ($SCRATCH)"
"$SWIFT" build -c release --static-swift-stdlib --product session-gateway --scratch-path "$SCRATCH"
binary=$("$SWIFT" build -c release --scratch-path "$SCRATCH" --show-bin-path)/session-gateway
libs=$(ldd "$binary") || fail "ldd $binary"
if grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found' <<<"$libs"; then
  fail "the binary needs the Swift runtime or a missing library (above): it would not start in the image"
fi
install -D -m 0755 "$binary" deploy/dist/session-gateway

# --- the base image ------------------------------------------------------------------------------------------------
if [ -n "$base_pid" ]; then
  pid=$base_pid; base_pid=""
  wait "$pid" || { tail -n 20 "$CACHE/debootstrap.log" >&2; fail "debootstrap (log: $CACHE/debootstrap.log)"; }
  step "debootstrap: done ($BASE_TAR)"
fi
if "${podman[@]}" image exists "$BASE"; then
  step "base $BASE: present"
else
  step "importing $BASE_TAR as $BASE"
  "${podman[@]}" import --quiet "$BASE_TAR" "$BASE" >/dev/null
fi

# --- 3. the image --------------------------------------------------------------------------------------------------
step "building $IMAGE (BINARY_FROM=context, RUNTIME_IMAGE=$BASE)"
# --pull=never: the build must not need a registry (nor the swift:6.3-bookworm image of the unused build stage).
"${podman[@]}" build --pull=never --network host "${ulimits[@]}" \
  --build-arg RUNTIME_IMAGE="$BASE" --build-arg BINARY_FROM=context -f deploy/Dockerfile -t "$IMAGE" . \
  >"$CACHE/build.log" 2>&1 \
  || { tail -n 30 "$CACHE/build.log" >&2; fail "podman build (log: $CACHE/build.log)"; }

# --- 4. the image, run --------------------------------------------------------------------------------------------
# Three free ports on 127.0.0.1, held together while chosen so they differ.
read -r listen admin echo_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# The app secret, owned by the image's user and readable by it only, as an operator would mount it.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/shopify-api-secret"
chown "$UID_GID:$UID_GID" "$tmp/shopify-api-secret"; chmod 0400 "$tmp/shopify-api-secret"
# The baked config with this host's free ports: everything else as shipped.
sed -e "s|0\.0\.0\.0:8080|127.0.0.1:$listen|" -e "s|0\.0\.0\.0:9901|127.0.0.1:$admin|" \
    -e "s|127\.0\.0\.1:3000|127.0.0.1:$echo_port|" \
  deploy/container/gateway.yaml >"$tmp/gateway.yaml"
chmod 0644 "$tmp/gateway.yaml"
for from in 0.0.0.0:8080 0.0.0.0:9901 127.0.0.1:3000; do
  grep -q "$from" deploy/container/gateway.yaml \
    || fail "deploy/container/gateway.yaml no longer has $from (update this test)"
done

# Read-only root filesystem without podman's /tmp and /run tmpfs (as Kubernetes' readOnlyRootFilesystem), no
# capabilities, the host's network.
run=("${podman[@]}" run --network host --read-only --read-only-tmpfs=false --cap-drop ALL
     --security-opt no-new-privileges "${ulimits[@]}" -v "$tmp/shopify-api-secret:/run/secrets/shopify-api-secret:ro")

step "session-gateway check on the config baked into the image"
"${run[@]}" --rm "$IMAGE" check --config /etc/session-gateway/gateway.yaml >"$tmp/check.out" 2>&1 \
  || { cat "$tmp/check.out" >&2; fail "the baked /etc/session-gateway/gateway.yaml does not pass check"; }
if grep -i warning "$tmp/check.out"; then fail "check warns on the baked config"; fi

step "echo backend on 127.0.0.1:$echo_port, gateway on 127.0.0.1:$listen (admin $admin)"
echo_c=session-gateway-image-test-echo-$$
gw_c=session-gateway-image-test-gw-$$
containers+=("$echo_c")
"${run[@]}" -d --name "$echo_c" "$IMAGE" echo-backend --listen "127.0.0.1:$echo_port" >/dev/null
containers+=("$gw_c")
# The image's default command (serve --config /etc/session-gateway/gateway.yaml), on the test's copy of the config.
"${run[@]}" -d --name "$gw_c" -v "$tmp/gateway.yaml:/etc/session-gateway/gateway.yaml:ro" "$IMAGE" >/dev/null

ready=""
for _ in $(seq 1 100); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin/readyz")" = 200 ] \
     && curl -s -o /dev/null "http://127.0.0.1:$echo_port/"; then ready=1; break; fi
  [ "$("${podman[@]}" inspect -f '{{.State.Running}}' "$gw_c")" = true ] || break
  sleep 0.2
done
[ -n "$ready" ] || { "${podman[@]}" logs "$gw_c" >&2 || true
                     fail "the gateway did not become ready on 127.0.0.1:$admin/readyz"; }

token=$("${run[@]}" --rm -v "$tmp/gateway.yaml:/etc/session-gateway/gateway.yaml:ro" "$IMAGE" \
          token mint --config /etc/session-gateway/gateway.yaml --shop demo.myshopify.com --customer 42) \
  || fail "token mint in the image"

code=$(curl -s -o "$tmp/ok.body" -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$listen/hello")
[ "$code" = 200 ] || { cat "$tmp/ok.body" >&2; fail "a minted token got HTTP $code, not 200"; }
grep -q '"x-shop-domain":"demo.myshopify.com"' "$tmp/ok.body" \
  || { cat "$tmp/ok.body" >&2; fail "the backend did not receive X-Shop-Domain: demo.myshopify.com"; }
step "minted token: 200, the backend saw X-Shop-Domain: demo.myshopify.com"

# The same token with its signature's first character changed (the last one may carry only padding bits).
sig=${token##*.}; if [ "${sig:0:1}" = A ]; then swap=B; else swap=A; fi
bad="${token%.*}.$swap${sig:1}"
code=$(curl -s -o "$tmp/bad.body" -w '%{http_code}' -H "Authorization: Bearer $bad" "http://127.0.0.1:$listen/hello")
[ "$code" = 401 ] || { cat "$tmp/bad.body" >&2; fail "a token with a bad signature got HTTP $code, not 401"; }
step "bad token: 401"

pid=$("${podman[@]}" inspect -f '{{.State.Pid}}' "$gw_c")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[ "$uid" = "$UID_GID" ] || fail "the gateway runs as uid $uid, not $UID_GID"
step "the gateway process runs as uid $uid"

drain=$(sed -n -E 's/^[[:space:]]*drain_timeout:[[:space:]]*([0-9]+)s.*/\1/p' "$tmp/gateway.yaml")
drain=${drain:-20}
start=$(date +%s)
"${podman[@]}" kill --signal TERM "$gw_c" >/dev/null
status=$(timeout "$((drain + 5))" "${podman[@]}" wait "$gw_c") \
  || fail "the gateway did not stop within $((drain + 5))s of SIGTERM (drain_timeout ${drain}s)"
elapsed=$(( $(date +%s) - start ))
[ "$status" = 0 ] || { "${podman[@]}" logs --tail 20 "$gw_c" >&2 || true
                       fail "the gateway exited with $status after SIGTERM, not 0"; }
[ "$elapsed" -le "$drain" ] || fail "the gateway took ${elapsed}s to stop, above drain_timeout ${drain}s"
step "SIGTERM: exit 0 after ${elapsed}s"

size=$("${podman[@]}" image inspect -f '{{.Size}}' "$IMAGE")
mib=$(( size / 1024 / 1024 ))
[ "$mib" -lt 300 ] || fail "the image is ${mib} MiB (expected under 300 MiB: base ~75, libraries ~10, binary ~85)"
step "image $IMAGE: ${mib} MiB"
step "passed"
