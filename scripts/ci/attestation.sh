#!/usr/bin/env bash
# Sign, and verify, this pipeline's Binary Authorization attestation for one image digest.
#
#   scripts/ci/attestation.sh sign   REGISTRY/mcp-server@sha256:...
#   scripts/ci/attestation.sh verify REGISTRY/mcp-server@sha256:...
#
# Environment: ATTESTOR (projects/P/attestors/A), KEY_VERSION (projects/P/locations/L/
# keyRings/R/cryptoKeys/K/cryptoKeyVersions/N; sign only), GCP_PROJECT_ID, and
# optionally ACCESS_TOKEN (a short-lived Google token; it goes to a private temporary
# file for gcloud, never onto a command line or into the workspace).
#
# `sign` asks Cloud KMS to sign the digest's payload (the private key never leaves
# KMS) and stores the attestation. gcloud's own --validate is left out: it needs one
# more role (attestorsVerifier), and `verify` is the stricter check. `verify` repeats what GKE's admission check does, with nothing
# but the attestor's public key: some attestation for exactly this digest carries a
# signature that the attestor's key verifies, over a payload naming this image and
# digest. On success it prints the digest (the workflow writes it to the deploy
# commit); otherwise it names what is wrong and exits 1.
set -euo pipefail

die() {
  echo "error: $*" >&2
  exit 1
}

[ "$#" -eq 2 ] || die "usage: $0 sign|verify IMAGE@sha256:DIGEST"
action="$1"
artifact="$2"
image="${artifact%@*}"
digest="${artifact##*@}"
[[ "$artifact" == *@sha256:* && "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] ||
  die "not an image by digest: $artifact (expected IMAGE@sha256:<64 hex>)"
: "${ATTESTOR:?set ATTESTOR (the attestor output of the infra stack)}"
: "${GCP_PROJECT_ID:?set GCP_PROJECT_ID}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -n "${ACCESS_TOKEN:-}" ]; then
  umask 077
  printf '%s' "$ACCESS_TOKEN" >"$work/token"
  export CLOUDSDK_AUTH_ACCESS_TOKEN_FILE="$work/token"
fi
export CLOUDSDK_CORE_PROJECT="$GCP_PROJECT_ID"
# gcloud must never wait for an answer in CI.
export CLOUDSDK_CORE_DISABLE_PROMPTS=1

sign() {
  : "${KEY_VERSION:?set KEY_VERSION (the attestation_key_version output)}"
  gcloud beta container binauthz attestations sign-and-create \
    --artifact-url="$artifact" --attestor="$ATTESTOR" --keyversion="$KEY_VERSION"
  echo "signed: $artifact"
}

verify() {
  gcloud container binauthz attestors describe "$ATTESTOR" --format=json >"$work/attestor.json"
  gcloud container binauthz attestations list --attestor="$ATTESTOR" \
    --artifact-url="$artifact" --format=json >"$work/attestations.json"

  # One line per (attestation, signature): key id, signature, payload. gcloud prints
  # bytes fields in URL-safe base64 ('-' and '_'), which `base64 -d` reads after tr.
  jq -r '.[] | .attestation as $a | $a.signatures[]? |
      [.publicKeyId, .signature, $a.serializedPayload] | @tsv' \
    "$work/attestations.json" >"$work/signatures.tsv"
  [ -s "$work/signatures.tsv" ] || die "no attestation by $ATTESTOR for $artifact"

  local key_id signature payload pem
  while IFS=$'\t' read -r key_id signature payload; do
    pem="$(jq -r --arg id "$key_id" \
      '.userOwnedGrafeasNote.publicKeys[]? | select(.id == $id) | .pkixPublicKey.publicKeyPem' \
      "$work/attestor.json")"
    if [ -z "$pem" ]; then
      echo "skipped: a signature by $key_id, which is not a key of $ATTESTOR" >&2
      continue
    fi
    printf '%s\n' "$pem" >"$work/key.pem"
    tr -- '-_' '+/' <<<"$signature" | base64 -d >"$work/signature" 2>/dev/null || continue
    tr -- '-_' '+/' <<<"$payload" | base64 -d >"$work/payload" 2>/dev/null || continue
    if ! openssl dgst -sha256 -verify "$work/key.pem" -signature "$work/signature" \
      "$work/payload" >/dev/null 2>&1; then
      echo "skipped: a signature by $key_id that its key does not verify" >&2
      continue
    fi
    # The signature is good; now it must be about this very image and digest.
    if jq -e --arg digest "$digest" --arg image "$image" \
      '.critical.image["docker-manifest-digest"] == $digest
        and .critical.identity["docker-reference"] == $image' \
      "$work/payload" >/dev/null 2>&1; then
      echo "verified: $artifact is attested by $ATTESTOR (key $key_id)" >&2
      echo "$digest"
      return 0
    fi
    echo "skipped: a valid signature by $key_id over another image or digest" >&2
  done <"$work/signatures.tsv"
  die "no signature by a key of $ATTESTOR verifies an attestation of $artifact"
}

case "$action" in
  sign) sign ;;
  verify) verify ;;
  *) die "unknown action: $action (sign or verify)" ;;
esac
