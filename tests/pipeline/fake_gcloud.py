"""A stand-in for the three gcloud commands scripts/ci/attestation.sh runs.

Google Cloud cannot be reached here, so this one part is faked; everything
else is real: real P-256 keys made by openssl, real signatures over the payload
gcloud's sign-and-create writes, and the script's own openssl and jq checks.

`install(bin_dir, keys_dir)` writes an executable `gcloud` into bin_dir. Its
answers follow the environment: FAKE_GCLOUD_MODE picks what the stored
attestation looks like (good, none, other-digest, other-image, tampered,
other-key, unknown-key-id), FAKE_GCLOUD_LOG receives one JSON line per call
(its arguments, and what the token file held while it ran).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

KEY_ID = (
    "//cloudkms.googleapis.com/v1/projects/mcp-example-123456/locations/us-central1/"
    "keyRings/mcp-binauthz/cryptoKeys/attestor/cryptoKeyVersions/1"
)

SCRIPT = r"""
import base64, json, os, subprocess, sys

KEY_ID = __KEY_ID__
args = sys.argv[1:]
keys = os.environ["FAKE_GCLOUD_KEYS"]
mode = os.environ.get("FAKE_GCLOUD_MODE", "good")
token_file = os.environ.get("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE")
token = open(token_file).read() if token_file and os.path.exists(token_file) else None
with open(os.environ["FAKE_GCLOUD_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "token": token, "token_file": token_file,
                          "project": os.environ.get("CLOUDSDK_CORE_PROJECT"),
                          "prompts_disabled": os.environ.get("CLOUDSDK_CORE_DISABLE_PROMPTS")})
              + "\n")


def opt(name):
    for arg in args:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def b64(data):
    # gcloud projects bytes fields with apitools, which writes URL-safe base64.
    return base64.urlsafe_b64encode(data).decode()


if args[:5] == ["beta", "container", "binauthz", "attestations", "sign-and-create"]:
    sys.exit(0)
if args[:4] == ["container", "binauthz", "attestors", "describe"]:
    pem = open(os.path.join(keys, "public.pem")).read()
    print(json.dumps({
        "name": args[4],
        "userOwnedGrafeasNote": {
            "noteReference": "projects/mcp-example-123456/notes/mcp-pipeline-attestations",
            "publicKeys": [{"id": KEY_ID, "pkixPublicKey": {
                "publicKeyPem": pem, "signatureAlgorithm": "ECDSA_P256_SHA256"}}],
        },
    }))
    sys.exit(0)
if args[:4] == ["container", "binauthz", "attestations", "list"]:
    image, digest = opt("artifact-url").rsplit("@", 1)
    if mode == "none":
        print("[]")
        sys.exit(0)
    if mode == "other-digest":
        digest = "sha256:" + "0" * 64
    if mode == "other-image":
        image = image + "-other"
    payload = json.dumps({"critical": {
        "identity": {"docker-reference": image},
        "image": {"docker-manifest-digest": digest},
        "type": "Google cloud binauthz container signature",
    }}).encode()
    signer = "other.pem" if mode == "other-key" else "private.pem"
    # ECDSA signatures differ each time: sign until the URL-safe form has a '-' or '_',
    # so every run proves the script decodes what gcloud really prints.
    for _attempt in range(200):
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", os.path.join(keys, signer)],
            input=payload, capture_output=True, check=True,
        ).stdout
        if set(b64(signature)) & set("-_"):
            break
    if mode == "tampered":
        payload = payload.replace(b"binauthz", b"binauthZ")
    key_id = KEY_ID.replace("/1", "/2") if mode == "unknown-key-id" else KEY_ID
    print(json.dumps([{
        "name": "projects/mcp-example-123456/occurrences/0f0e",
        "kind": "ATTESTATION",
        "noteName": "projects/mcp-example-123456/notes/mcp-pipeline-attestations",
        "resourceUri": "https://" + opt("artifact-url"),
        "attestation": {
            "serializedPayload": b64(payload),
            "signatures": [{"publicKeyId": key_id, "signature": b64(signature)}],
        },
    }]))
    sys.exit(0)
print("fake gcloud: unexpected command", args, file=sys.stderr)
sys.exit(2)
"""


def make_keys(keys_dir: Path) -> None:
    """The attestor's P-256 key pair, and another key that is not the attestor's."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    for name in ("private", "other"):
        subprocess.run(
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
             str(keys_dir / f"{name}.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
    subprocess.run(
        ["openssl", "ec", "-in", str(keys_dir / "private.pem"), "-pubout", "-out",
         str(keys_dir / "public.pem")],
        check=True, capture_output=True,
    )  # fmt: skip


def install(bin_dir: Path, keys_dir: Path) -> None:
    make_keys(keys_dir)
    bin_dir.mkdir(parents=True, exist_ok=True)
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(f"#!{sys.executable}\n" + SCRIPT.replace("__KEY_ID__", repr(KEY_ID)))
    gcloud.chmod(0o755)
