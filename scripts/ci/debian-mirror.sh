#!/usr/bin/env bash
# Print the Debian mirror serving bookworm, as this machine's apt sources name it:
# what debootstrap builds from (docker-engine.sh's stand-in base image, arm64-check.sh's
# emulated root), so neither needs a mirror address of its own.
#
#   mirror="$(scripts/ci/debian-mirror.sh)"
set -euo pipefail

# $(...) here is apt's own field syntax, not a shell expansion.
# shellcheck disable=SC2016
mirror="$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE)' \
  'Identifier: Packages' 2>/dev/null | awk '$2 == "bookworm" { print $1; exit }')"
if [[ -z "$mirror" ]]; then
  printf 'debian-mirror: error: no Debian bookworm mirror in the apt sources of this machine\n' >&2
  exit 1
fi
printf '%s\n' "$mirror"
