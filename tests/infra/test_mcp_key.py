"""mcp-key against a loopback Secret Manager, through the real client library.

Google's Secret Manager cannot be reached from here, so `FakeSecretManager`
(tests/infra/fake_secret_manager.py) stands in for it: a gRPC server on
127.0.0.1 speaking the real API. The tool runs unmodified with its real
`google-cloud-secret-manager` client; only the endpoint points at the stand-in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import jwt
import pytest

from infra.mcp_infra.settings import InfraConfig
from mcp_cli import key as mcp_key
from tests.helpers import ROOT
from tests.infra.fake_secret_manager import FakeSecretManager
from tests.infra.fake_secret_manager import crc32c as reference_crc32c
from tests.server_process import ServerProcess, run_cli

# The console script `make install` put beside the tests' interpreter (.venv/bin).
SCRIPT = Path(sys.executable).with_name("mcp-key")
PROJECT = "mcp-example-123456"
# The secret the stack creates, named once, by the stack's settings.
SECRET_ID = InfraConfig.model_fields["secret_id"].default
SECRET = f"projects/{PROJECT}/secrets/{SECRET_ID}"


@pytest.fixture
def fake() -> Iterator[FakeSecretManager]:
    server = FakeSecretManager()
    server.start()
    server.create_secret(PROJECT, SECRET_ID)
    yield server
    server.stop()


def run(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = mcp_key.main(["--project", PROJECT, "--endpoint", fake.endpoint, *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_process(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def assert_no_key_printed(fake: FakeSecretManager, text: str) -> None:
    for number in fake.states(SECRET):
        assert fake.payload(SECRET, number).decode() not in text


def test_crc32c_matches_the_standard_check_value() -> None:
    assert mcp_key.crc32c(b"123456789") == 0xE3069283  # RFC 3720's CRC-32C check value
    key = mcp_key.new_key()
    assert mcp_key.crc32c(key) == reference_crc32c(key)


def test_new_key_is_64_random_bytes_as_text() -> None:
    import base64

    key = mcp_key.new_key()
    assert len(base64.urlsafe_b64decode(key + b"==")) == 64
    assert key != mcp_key.new_key()


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
    env.pop(mcp_key.ENDPOINT_ENV, None)
    result = run_process(str(SCRIPT), "show", env=env)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: no Google credentials: run `gcloud auth application-default login`\n"
    )


def test_endpoint_must_be_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    code = mcp_key.main(["--project", PROJECT, "--endpoint", "secretmanager.example:443", "show"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "only a local test server on loopback may be used" in err


@pytest.mark.parametrize("command", [[], ["create"], ["rotate"], ["show"], ["token"]])
def test_help_on_every_subcommand(command: list[str]) -> None:
    result = run_cli("mcp-key", *command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mcp-key ")


def test_the_installed_script_names_the_stacks_secret_from_anywhere(tmp_path: Path) -> None:
    """The default is read from infra's settings by the console script itself: from a
    folder outside the checkout, with no PYTHONPATH pointing at it."""
    result = run_cli("mcp-key", "--help", cwd=tmp_path, env={"PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    assert f"(default: {SECRET_ID}, the stack's secret_id)" in " ".join(result.stdout.split())


def test_renaming_the_stacks_secret_renames_the_default(tmp_path: Path) -> None:
    """A copy of mcp_cli/ beside a copy of infra/ whose `secret_id` default is changed:
    mcp-key follows the stack's settings, it keeps no name of its own."""
    shutil.copytree(ROOT / "mcp_cli", tmp_path / "mcp_cli")
    shutil.copytree(ROOT / "infra" / "mcp_infra", tmp_path / "infra" / "mcp_infra")
    settings = tmp_path / "infra" / "mcp_infra" / "settings.py"
    declared = f'] = "{SECRET_ID}"'
    assert declared in settings.read_text()
    settings.write_text(settings.read_text().replace(declared, '] = "renamed-signing-key"'))
    program = "import sys; from mcp_cli.key import main; sys.exit(main())"
    # From the copy's folder: `python -c` puts the working directory first on sys.path.
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = run_process(sys.executable, "-c", program, "--help", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(default: renamed-signing-key, the stack's secret_id)" in " ".join(
        result.stdout.split()
    )


def test_common_options_work_after_the_command_too(
    fake: FakeSecretManager, capsys: pytest.CaptureFixture[str]
) -> None:
    """`token --project P` (as phases 6 and 9 write it) equals `--project P token`."""
    assert mcp_key.main(["--endpoint", fake.endpoint, "--project", PROJECT, "create"]) == 0
    capsys.readouterr()
    code = mcp_key.main(["token", "--project", PROJECT, "--endpoint", fake.endpoint, "--sub", "a"])
    out, err = capsys.readouterr()
    assert code == 0
    claims = jwt.decode(
        out.strip(), fake.payload(SECRET, 1), algorithms=["HS256"], audience="mcp-server"
    )
    assert err == f"jti: {claims['jti']}\n"  # the id to revoke it by, never on stdout
    # Given at the top only, a value is not reset by the command's own (absent) option.
    code = mcp_key.main(["--project", "other-project-1", "--endpoint", fake.endpoint, "show"])
    _, err = capsys.readouterr()
    assert code == 1
    assert f"projects/other-project-1/secrets/{SECRET_ID}" in err


def test_without_the_client_library_it_says_how_to_install_it() -> None:
    """`make install-main` (the server only) installs mcp-key but not Google's client."""
    hide = "import sys; sys.modules['google.cloud.secretmanager'] = None; "
    program = hide + "from mcp_cli.key import main; sys.exit(main())"
    result = run_process(
        sys.executable, "-c", program, "show", env={**os.environ, "GOOGLE_CLOUD_PROJECT": PROJECT}
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: mcp-key needs the Secret Manager client library "
        "(google-cloud-secret-manager): run `make install`\n"
    )


def sync_like_external_secrets(fake: FakeSecretManager, folder: Path) -> None:
    """The chart's ExternalSecret, which cannot run here: the newest enabled version
    becomes the key file, the one before it the previous-key file, each replaced atomically
    (a new file, as kubelet's volume update gives the server)."""
    enabled = sorted((n for n, s in fake.states(SECRET).items() if s == "ENABLED"), reverse=True)
    for name, number in zip(("current", "previous"), enabled, strict=False):
        staged = folder / f".{name}.new"
        staged.write_bytes(fake.payload(SECRET, number))
        os.replace(staged, folder / name)
    if len(enabled) < 2:
        (folder / "previous").unlink(missing_ok=True)  # no previous key mounted


def test_a_rotation_reaches_the_running_server(fake: FakeSecretManager, tmp_path: Path) -> None:
    """create, token, rotate, rotate with mcp-key; a real server follows the synced keys."""
    env = {"GOOGLE_CLOUD_PROJECT": PROJECT, mcp_key.ENDPOINT_ENV: fake.endpoint}

    def key(*args: str) -> str:
        result = run_cli("mcp-key", *args, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def token() -> str:
        return key("token", "--sub", "alice", "--scopes", "public:read")

    keys = tmp_path / "keys"
    keys.mkdir()
    key("create")
    sync_like_external_secrets(fake, keys)
    server = ServerProcess(
        tmp_path,
        {
            "MCP_JWT_SECRET_FILE": str(keys / "current"),
            "MCP_JWT_PREVIOUS_SECRET_FILE": str(keys / "previous"),  # none before a rotation
            "MCP_RATE_LIMIT_PER_MINUTE": "0",
            "MCP_AUTH_FAILURE_LIMIT_PER_MINUTE": "0",
        },
    )

    def listed(bearer: str) -> subprocess.CompletedProcess[str]:
        return run_cli("mcp-client", server.url, "--token", bearer, "list")

    def until_accepted(bearer: str) -> None:
        deadline = time.monotonic() + 60  # the server looks at its files once a second
        while listed(bearer).returncode != 0:
            assert time.monotonic() < deadline, "the server did not load the rotated key"
            time.sleep(0.2)

    try:
        first = token()
        assert listed(first).stdout == "get_public_info\n"

        key("rotate")
        sync_like_external_secrets(fake, keys)
        second = token()
        until_accepted(second)
        assert listed(first).stdout == "get_public_info\n", "the previous key still verifies"

        key("rotate")  # version 1 is disabled: its tokens stop working
        sync_like_external_secrets(fake, keys)
        until_accepted(token())
        refused = listed(first)
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: 401 Unauthorized: ")
        assert listed(second).stdout == "get_public_info\n"
    finally:
        server.stop()
    for number in fake.states(SECRET):
        assert fake.payload(SECRET, number).decode() not in server.logs()
