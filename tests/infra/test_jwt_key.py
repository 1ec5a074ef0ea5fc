"""scripts/jwt_key.py against a loopback Secret Manager, through the real client library.

Google's Secret Manager cannot be reached from here, so `FakeSecretManager`
(tests/infra/fake_secret_manager.py) stands in for it: a gRPC server on
127.0.0.1 speaking the real API. The tool runs unmodified with its real
`google-cloud-secret-manager` client; only the endpoint points at the stand-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import jwt
import pytest

from scripts import jwt_key
from tests.infra.fake_secret_manager import FakeSecretManager
from tests.infra.fake_secret_manager import crc32c as reference_crc32c

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "jwt_key.py"
PROJECT = "mcp-example-123456"
SECRET = f"projects/{PROJECT}/secrets/mcp-jwt-signing-key"


@pytest.fixture
def fake() -> Iterator[FakeSecretManager]:
    server = FakeSecretManager()
    server.start()
    server.create_secret(PROJECT, "mcp-jwt-signing-key")
    yield server
    server.stop()


def run(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = jwt_key.main(["--project", PROJECT, "--endpoint", fake.endpoint, *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_key_printed(fake: FakeSecretManager, text: str) -> None:
    for number in fake.states(SECRET):
        assert fake.payload(SECRET, number).decode() not in text


def test_crc32c_matches_the_standard_check_value() -> None:
    assert jwt_key.crc32c(b"123456789") == 0xE3069283  # RFC 3720's CRC-32C check value
    key = jwt_key.new_key()
    assert jwt_key.crc32c(key) == reference_crc32c(key)


def test_new_key_is_64_random_bytes_as_text() -> None:
    import base64

    key = jwt_key.new_key()
    assert len(base64.urlsafe_b64decode(key + b"==")) == 64
    assert key != jwt_key.new_key()


def test_create_adds_version_1_and_prints_no_key(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(fake, capsys, "create")
    assert (code, err) == (0, "")
    assert out == f"added version 1 of {SECRET} (a new 64-byte key)\n"
    assert fake.states(SECRET) == {1: "ENABLED"}
    assert len(fake.payload(SECRET, 1)) == 86  # 64 bytes, base64url
    assert_no_key_printed(fake, out + err)


def test_create_refuses_when_a_key_exists(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, capsys, "create")[0] == 0
    code, out, err = run(fake, capsys, "create")
    assert code == 1
    assert out == ""
    assert err == (
        f"error: {SECRET} already has enabled version 1; use `rotate` to replace the key\n"
    )
    assert fake.states(SECRET) == {1: "ENABLED"}


def test_rotate_keeps_the_previous_key_and_disables_older_ones(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    run(fake, capsys, "create")
    code, out, _ = run(fake, capsys, "rotate")
    assert code == 0
    assert fake.states(SECRET) == {1: "ENABLED", 2: "ENABLED"}
    assert "added version 2" in out
    assert "version 1 stays enabled as the previous key" in out

    code, out, _ = run(fake, capsys, "rotate")
    assert code == 0
    assert fake.states(SECRET) == {1: "DISABLED", 2: "ENABLED", 3: "ENABLED"}
    assert out.splitlines()[-1] == "disabled versions: 1"
    keys = {fake.payload(SECRET, n) for n in (1, 2, 3)}
    assert len(keys) == 3, "every rotation makes a fresh key"
    assert_no_key_printed(fake, out)


def test_rotate_without_a_key_says_create(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(fake, capsys, "rotate")
    assert code == 1
    assert err == f"error: {SECRET} has no enabled version; use `create` first\n"


def test_show_prints_metadata_and_versions_only(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    run(fake, capsys, "create")
    run(fake, capsys, "rotate")
    run(fake, capsys, "rotate")
    code, out, err = run(fake, capsys, "show")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"secret:      {SECRET}"
    assert lines[2] == "replication: user-managed (us-central1)"
    assert lines[3] == "labels:      app=mcp-server, managed-by=cdktn"
    assert lines[4] == "versions:    3"
    rows = [line.split() for line in lines[5:]]
    assert [(r[0], r[1], r[3:]) for r in rows] == [
        ("3", "ENABLED", ["current"]),
        ("2", "ENABLED", ["previous"]),
        ("1", "DISABLED", []),
    ]
    assert "AccessSecretVersion" not in fake.calls, "show must never read a key"
    assert_no_key_printed(fake, out)


def test_token_is_signed_with_the_latest_enabled_key(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    run(fake, capsys, "create")
    run(fake, capsys, "rotate")
    code, out, err = run(
        fake, capsys, "token", "--sub", "alice", "--scopes", "public:read,confidential:read"
    )
    assert code == 0
    token = out.strip()
    assert out == token + "\n", "only the token is printed"
    assert err == f"jti: {jwt.decode(token, options={'verify_signature': False})['jti']}\n"
    claims = jwt.decode(
        token,
        fake.payload(SECRET, 2),
        algorithms=["HS256"],
        audience="mcp-server",
        issuer="secure-mcp-server",
    )
    assert claims["sub"] == "alice"
    assert claims["scope"] == "public:read confidential:read"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, fake.payload(SECRET, 1), algorithms=["HS256"], audience="mcp-server")
    assert_no_key_printed(fake, out)


def test_token_without_a_key(fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(fake, capsys, "token", "--sub", "alice")
    assert (code, out) == (1, "")
    assert err == f"error: {SECRET} has no enabled version; run `create` first\n"


def test_missing_secret_points_at_the_infra_phase(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(fake, capsys, "--secret", "no-such-secret", "create")
    assert (code, out) == (1, "")
    assert err.startswith("error: not found: Secret [projects/mcp-example-123456/secrets/")
    assert "docs/tutorial/05-infrastructure.md" in err


def test_a_key_whose_checksum_does_not_match_is_not_used(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, capsys, "create")[0] == 0
    fake.corrupted.add(f"{SECRET}/versions/1")
    code, out, err = run(fake, capsys, "token", "--sub", "alice")
    assert (code, out) == (1, "")
    assert err == "error: version 1: checksum mismatch, key not used\n"


def test_permission_denied_says_how_to_log_in(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.failures["GetSecret"] = grpc.StatusCode.PERMISSION_DENIED
    code, out, err = run(fake, capsys, "create")
    assert (code, out) == (1, "")
    assert err == (
        "error: permission denied: GetSecret refused by the test (are you logged in with "
        "`gcloud auth application-default login` as a project owner?)\n"
    )


def test_other_service_errors_are_one_line(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.failures["ListSecretVersions"] = grpc.StatusCode.INVALID_ARGUMENT
    code, out, err = run(fake, capsys, "rotate")
    assert (code, out) == (1, "")
    assert err == "error: Secret Manager: ListSecretVersions refused by the test\n"


def test_no_google_credentials_says_how_to_get_them(tmp_path: Path) -> None:
    """Google's own client, no endpoint, and no credentials anywhere it looks."""
    env = {k: v for k, v in os.environ.items() if k not in {"GOOGLE_APPLICATION_CREDENTIALS"}}
    env.update(
        {
            "CLOUDSDK_CONFIG": str(tmp_path),  # no gcloud application-default file
            "HOME": str(tmp_path),
            "NO_GCE_CHECK": "true",  # not on Google Cloud: do not ask a metadata server
            "GOOGLE_CLOUD_PROJECT": PROJECT,
        }
    )
    env.pop(jwt_key.ENDPOINT_ENV, None)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "show"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: no Google credentials: run `gcloud auth application-default login`\n"
    )


def test_endpoint_must_be_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    code = jwt_key.main(["--project", PROJECT, "--endpoint", "secretmanager.example:443", "show"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "only a local test server on loopback may be used" in err


def test_cli_process_mints_a_token_over_the_wire(fake: FakeSecretManager) -> None:
    """The script as a learner runs it: a separate process, env-configured endpoint."""
    env = {
        **os.environ,
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        jwt_key.ENDPOINT_ENV: fake.endpoint,
    }
    created = subprocess.run(
        [sys.executable, str(SCRIPT), "create"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    minted = subprocess.run(
        [sys.executable, str(SCRIPT), "token", "--sub", "ci", "--scopes", "public:read"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert minted.returncode == 0, minted.stderr
    claims = jwt.decode(
        minted.stdout.strip(), fake.payload(SECRET, 1), algorithms=["HS256"], audience="mcp-server"
    )
    assert claims["scope"] == "public:read"


@pytest.mark.parametrize("command", [[], ["create"], ["rotate"], ["show"], ["token"]])
def test_help_on_every_subcommand(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: jwt_key.py")


def test_common_options_work_after_the_command_too(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    """`token --project P` (as phases 6 and 9 write it) equals `--project P token`."""
    assert jwt_key.main(["--endpoint", fake.endpoint, "--project", PROJECT, "create"]) == 0
    capsys.readouterr()
    code = jwt_key.main(["token", "--project", PROJECT, "--endpoint", fake.endpoint, "--sub", "a"])
    out, err = capsys.readouterr()
    assert code == 0
    claims = jwt.decode(
        out.strip(), fake.payload(SECRET, 1), algorithms=["HS256"], audience="mcp-server"
    )
    assert err == f"jti: {claims['jti']}\n"  # the id to revoke it by, never on stdout
    # Given at the top only, a value is not reset by the command's own (absent) option.
    code = jwt_key.main(["--project", "other-project-1", "--endpoint", fake.endpoint, "show"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "projects/other-project-1/secrets/mcp-jwt-signing-key" in err
