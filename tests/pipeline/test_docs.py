"""Tutorial phases 7 and 9 say what the code does: their offline commands run as shown.

Every `$ python3 scripts/bump_image_tag.py ...` (and the `printf` that makes
its input) in a ```console block of docs/tutorial/07-pipeline.md runs here,
in document order, in a temporary directory instead of /tmp, and must print
exactly the lines the tutorial shows under it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.docs.markdown import (
    TUTORIAL,
    console_commands,
    file_commands,
    numbered_sections,
    section,
    table_rows,
)
from tests.helpers import ROOT

pytestmark = pytest.mark.docs

RUNNABLE = ("python3 scripts/bump_image_tag.py", "printf 'image:")


def test_phase_7_bump_commands_print_what_the_doc_shows(tmp_path: Path) -> None:
    steps = [
        (command.text, command.output)
        for command in file_commands(TUTORIAL / "07-pipeline.md")
        if command.text.startswith(RUNNABLE)
    ]
    assert len(steps) >= 5, "the bump walkthrough is gone from phase 7"
    for command, expected in steps:
        here = command.replace("/tmp/", f"{tmp_path}/")
        result = subprocess.run(
            ["bash", "-c", here], cwd=ROOT, capture_output=True, text=True, check=False
        )
        printed = (result.stdout + result.stderr).splitlines()
        assert printed == [line.replace("/tmp/", f"{tmp_path}/") for line in expected], command


@pytest.mark.parametrize("doc", ["07-pipeline.md", "09-end-to-end.md"])
def test_phase_ends_with_verify_and_a_link(doc: str) -> None:
    after_verify = section((TUTORIAL / doc).read_text(), "Verify")
    assert console_commands(after_verify, doc), f"{doc}: the Verify block has no command"
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", after_verify)
    assert links, "no link after the Verify block"
    for link in links:
        assert (TUTORIAL / link).resolve().exists(), link


@pytest.mark.parametrize("doc", ["07-pipeline.md", "09-end-to-end.md"])
def test_commands_name_real_files_and_targets(doc: str) -> None:
    text = (TUTORIAL / doc).read_text()
    for script in set(re.findall(r"scripts/[\w/]+\.(?:py|sh)", text)):
        assert (ROOT / script).is_file(), script
    for workflow in set(re.findall(r"\b(\w+\.yml)\b", text)) - {"dependabot.yml", "zizmor.yml"}:
        assert (ROOT / ".github" / "workflows" / workflow).is_file(), workflow
    makefiles = (ROOT / "Makefile").read_text() + "".join(
        path.read_text() for path in (ROOT / "mk").glob("*.mk")
    )
    for target in set(re.findall(r"`make (?:-s )?([\w-]+)", text)):
        assert re.search(rf"^{re.escape(target)}:", makefiles, re.M), f"make {target}"


def test_phase_7_names_every_role_of_the_plan_identity() -> None:
    """The roles table of Part 4 is the plan identity's grants, no more and no fewer."""
    from infra.mcp_infra.plan_identity import (
        PLAN_ROLES,
        PLAN_ROLES_ON_KEY,
        PLAN_ROLES_ON_STATE_BUCKET,
    )

    part = numbered_sections((TUTORIAL / "07-pipeline.md").read_text(), 3)["11"]
    table = {role for row in table_rows(part) for role in re.findall(r"^`(roles/[\w.]+)`", row[0])}
    assert table == {*PLAN_ROLES, *PLAN_ROLES_ON_KEY, *PLAN_ROLES_ON_STATE_BUCKET}


def test_phase_7_shows_the_variables_of_both_workflows() -> None:
    """Every variable image.yml and infra.yml read is set from its output by phase 7."""
    from infra.mcp_infra.outputs import PLAN_VARIABLES, REPOSITORY_VARIABLES

    text = (TUTORIAL / "07-pipeline.md").read_text()
    for variable, output in {**REPOSITORY_VARIABLES, **PLAN_VARIABLES}.items():
        assert f"{variable}={output}" in text, variable
    assert "$ gh variable set INFRA_CONFIG_TOML < infra/config.toml\n" in text
