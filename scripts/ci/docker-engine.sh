#!/usr/bin/env bash
# Make a Docker engine and the Dockerfile's base image available.
#
#   eval "$(scripts/ci/docker-engine.sh start)"   # prints `export DOCKER_HOST=...`
#   scripts/ci/docker-engine.sh stop               # stops the private engine, if any
#
# `start` uses an engine that is already reachable (DOCKER_HOST, the current
# docker context, or /var/run/docker.sock) and then `stop` leaves it alone.
# Without one (the build machines run none), it installs Debian's `docker.io`
# and starts a private `dockerd` with its own data root, exec root and socket
# under $MCP_DOCKER_DIR (default /tmp/mcp-docker), without touching the host's
# network setup. It is idempotent: a private engine that already runs is reused
# (and then `stop` in that session leaves it running for the session that
# started it, which stops it by its PID).
#
# When the base image can be neither found nor pulled (no registry is
# reachable from the build machines), it builds a stand-in with debootstrap
# from the machine's own Debian mirror and tags it with the base image's name
# in that engine only. The stand-in has what the Dockerfile relies on: Python 3.11 at
# /usr/local/bin/python3 (and python, pip), a shell, and the machine's CA
# bundle so pip and uv trust the TLS-intercepting proxy. The root filesystem is
# cached as a tarball, so only the first start pays for it.
#
# Only the `export` lines go to stdout; progress goes to stderr, with a line
# every 15 s during each long step and its time when done. The first start
# takes 1 to 6 minutes (installing docker.io, debootstrap's downloads, the
# import; slower on a busy machine or a slow mirror); later starts reuse the
# running engine or its data root and the cached stand-in, and take seconds.
set -euo pipefail

STATE_DIR="${MCP_DOCKER_DIR:-/tmp/mcp-docker}"
SOCKET="$STATE_DIR/docker.sock"
PIDFILE="$STATE_DIR/dockerd.pid"
LOGFILE="$STATE_DIR/dockerd.log"
# The Dockerfile's base image (its `FROM ... AS base` line), the one name to make available.
DOCKERFILE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/Dockerfile"
BASE_IMAGE="$(sed -n 's/^FROM \([^ ]*\) AS base$/\1/p' "$DOCKERFILE")"
# Bump when the stand-in recipe below changes, so the cached rootfs is rebuilt.
STANDIN_VERSION="1"
STANDIN_TAR="$STATE_DIR/cache/standin-bookworm-py311-v$STANDIN_VERSION.tar"
STANDIN_LABEL="org.opencontainers.image.description=\"local stand-in for $BASE_IMAGE (debootstrap bookworm)\""
CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"

log() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -n "$BASE_IMAGE" ]] || die "$DOCKERFILE has no 'FROM <image> AS base' line"

# Run "$@" with its output in the file $2, saying every 15 s that step $1 is
# still at work and how long it took: the slow steps print nothing of their own.
with_progress() {
  local what="$1" out="$2" started=$SECONDS next=15 pid status=0
  shift 2
  "$@" >"$out" 2>&1 </dev/null &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS - started >= next)); then
      log "still $what ($((SECONDS - started)) s so far)"
      next=$((next + 15))
    fi
  done
  wait "$pid" || status=$?
  log "$what: $((SECONDS - started)) s"
  return "$status"
}

# True when a daemon answers on the given DOCKER_HOST ("" = the client's default).
reachable() {
  if [[ -n "$1" ]]; then
    DOCKER_HOST="$1" timeout 20 docker info >/dev/null 2>&1
  else
    (unset DOCKER_HOST; timeout 20 docker info >/dev/null 2>&1)
  fi
}

# The DOCKER_HOST of an engine that runs already, or nothing.
existing_engine() {
  local host=""
  command -v docker >/dev/null 2>&1 || return 0
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    host="$DOCKER_HOST"
  else
    # The current context knows where Docker Desktop, colima etc. listen.
    host="$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)"
    host="${host:-unix:///var/run/docker.sock}"
  fi
  # Our own private engine is not "existing": it is handled below.
  if [[ "$host" != "unix://$SOCKET" ]] && reachable "$host"; then
    printf '%s\n' "$host"
  fi
}

private_engine_running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && reachable "unix://$SOCKET"
}

# Install Debian packages (only as root: this is meant for throwaway CI machines).
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  [[ "$(id -u)" -eq 0 ]] || die "need root to install ${missing[*]} (or start Docker yourself)"
  log "installing ${missing[*]} from the Debian archive (usually under a minute)"
  if ! with_progress "apt-get update" "$STATE_DIR/apt.log" apt-get update -qq ||
    ! DEBIAN_FRONTEND=noninteractive with_progress "installing ${missing[*]}" \
      "$STATE_DIR/apt.log" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    tail -n 20 "$STATE_DIR/apt.log" >&2 || true
    die "apt-get failed; see $STATE_DIR/apt.log"
  fi
}

start_private_engine() {
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  command -v docker >/dev/null 2>&1 || apt_install docker.io
  mkdir -p "$STATE_DIR/data" "$STATE_DIR/exec" "$STATE_DIR/cache"
  chmod 700 "$STATE_DIR"
  rm -f "$SOCKET" "$PIDFILE"
  log "starting a private dockerd (socket $SOCKET, log $LOGFILE)"
  # --iptables/--ip6tables=false: leave the host's firewall alone.
  # --bridge=none: no docker0 bridge; builds and containers use host networking.
  # Own data/exec roots and socket: never collide with a system engine.
  setsid dockerd \
    --data-root "$STATE_DIR/data" \
    --exec-root "$STATE_DIR/exec" \
    --pidfile "$PIDFILE" \
    --host "unix://$SOCKET" \
    --iptables=false --ip6tables=false --bridge=none \
    --log-level warn \
    >"$LOGFILE" 2>&1 </dev/null 9>&- &
  local i
  for i in $(seq 1 60); do
    ((i % 15 == 0)) && log "still waiting for dockerd to answer (${i} s so far)"
    if reachable "unix://$SOCKET"; then
      log "private dockerd ready (pid $(cat "$PIDFILE"))"
      return 0
    fi
    if ! kill -0 "$!" 2>/dev/null; then
      tail -n 20 "$LOGFILE" >&2 || true
      die "dockerd exited during startup; see $LOGFILE"
    fi
    sleep 1
  done
  tail -n 20 "$LOGFILE" >&2 || true
  die "dockerd did not answer within ${i}s; see $LOGFILE"
}

build_standin_rootfs() {
  local mirror rootfs
  apt_install debootstrap
  mirror="$("$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh")"
  rootfs="$(mktemp -d "$STATE_DIR/cache/rootfs.XXXXXX")"
  log "building the stand-in root filesystem with debootstrap from $mirror (1 to 5 minutes, once)"
  if ! with_progress "debootstrap" "$STATE_DIR/debootstrap.log" debootstrap --variant=minbase \
    --include=python3,python3.11,python3-pip,ca-certificates bookworm "$rootfs" "$mirror"; then
    tail -n 20 "$STATE_DIR/debootstrap.log" >&2
    rm -rf "$rootfs"
    die "debootstrap failed; see $STATE_DIR/debootstrap.log"
  fi
  # Same paths as the official image: python/python3/pip under /usr/local/bin.
  ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3.11"
  ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python3"
  ln -sf /usr/bin/python3.11 "$rootfs/usr/local/bin/python"
  ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip3"
  ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
  # The official image lets pip install as root; Debian's marker (PEP 668) forbids it.
  rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
  # The machine's bundle includes the CA of the proxy that intercepts HTTPS here.
  cp "$CA_BUNDLE" "$rootfs$CA_BUNDLE"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar --numeric-owner -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' \
    --exclude='./sys/*' -cf "$STANDIN_TAR.partial" .
  mv "$STANDIN_TAR.partial" "$STANDIN_TAR"
  rm -rf "$rootfs"
}

ensure_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE is present"
    return 0
  fi
  log "pulling $BASE_IMAGE (gives up after 60 s)"
  if with_progress "docker pull" "$STATE_DIR/pull.log" timeout 60 docker pull -q "$BASE_IMAGE"; then
    return 0
  fi
  log "$BASE_IMAGE cannot be pulled here; using a local stand-in"
  mkdir -p "$STATE_DIR/cache"
  [[ -f "$STANDIN_TAR" ]] || build_standin_rootfs
  # ENV of a base image is inherited by every build on it: pip and uv inside
  # `docker build` then trust the machine's CA bundle.
  with_progress "docker import of the stand-in" "$STATE_DIR/import.log" docker import \
    --change "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" \
    --change "ENV SSL_CERT_FILE=$CA_BUNDLE" \
    --change "ENV PIP_CERT=$CA_BUNDLE" \
    --change "ENV UV_NATIVE_TLS=1" \
    --change "LABEL $STANDIN_LABEL" \
    --change 'CMD ["python3"]' \
    "$STANDIN_TAR" "$BASE_IMAGE"
  log "tagged the stand-in as $BASE_IMAGE (in this engine only)"
}

cmd_start() {
  local host mode
  host="$(existing_engine)"
  if [[ -n "$host" ]]; then
    log "using the running engine at $host"
    mode="existing"
  elif private_engine_running; then
    log "reusing the private engine at unix://$SOCKET"
    host="unix://$SOCKET"
    mode="reused"
  else
    start_private_engine
    host="unix://$SOCKET"
    mode="started"
  fi
  export DOCKER_HOST="$host"
  ensure_base_image
  printf 'export DOCKER_HOST=%q\n' "$DOCKER_HOST"
  # Tells `stop` whether this session owns the engine.
  printf 'export MCP_DOCKER_ENGINE=%s\n' "$mode"
  # testcontainers' reaper container would need a registry image; we clean up ourselves.
  printf 'export TESTCONTAINERS_RYUK_DISABLED=true\n'
}

cmd_stop() {
  # An engine this script did not start in this session is left running.
  case "${MCP_DOCKER_ENGINE:-}" in
    existing | reused)
      log "leaving the engine running (it was not started by this session)"
      return 0
      ;;
  esac
  if [[ ! -f "$PIDFILE" ]]; then
    log "no private engine to stop"
    return 0
  fi
  local pid i
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping the private dockerd (pid $pid)"
    kill -TERM "$pid"
    for i in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd still running after ${i}s; killing it"
      kill -KILL "$pid"
    fi
  fi
  rm -f "$PIDFILE"
  # dockerd leaves mounts (its network namespace) behind; release them so the
  # state directory can be deleted. The data root and its cache stay for reuse.
  awk -v dir="$STATE_DIR/" 'index($2, dir) == 1 { print $2 }' /proc/self/mounts |
    sort -r | while read -r mount; do umount "$mount" 2>/dev/null || true; done
}

# One start or stop at a time: two CI jobs on one machine must not both start
# a dockerd or build the stand-in. (dockerd gets fd 9 closed, see above.)
lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  flock -n 9 || {
    log "waiting for another docker-engine.sh start/stop on this machine to finish"
    flock 9
  }
}

case "${1:-}" in
  start) lock && cmd_start ;;
  stop) lock && cmd_stop ;;
  *)
    printf 'usage: %s start|stop\n' "$0" >&2
    exit 2
    ;;
esac
