"""scripts/verify/: how checks are registered, and where the verifier's names come from."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from infra.mcp_infra.outputs import REPOSITORY_VARIABLES
from scripts.verify import chart, cli, files, framework, infra
from tests.helpers import ROOT, tool

VERIFY = ROOT / "scripts" / "verify"


@pytest.fixture
def empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry of its own, so a test's checks never join the real phases."""
    monkeypatch.setattr(framework, "PHASES", {})
    monkeypatch.setattr(framework, "CHECKS", {})


def test_the_decorator_registers_checks_in_definition_order(empty_registry: None) -> None:
    framework.declare_phase(42, "42-nothing.md")

    @framework.check(phase=42, title="zebra first", hint="h1")
    def zebra(ctx: framework.Context) -> None:
        return None

    @framework.check(phase=42, title="aardvark second", hint="h2", live=True)
    def aardvark(ctx: framework.Context) -> None:
        return None

    @framework.check(phase=42, title="middle third", hint="h3")
    def middle(ctx: framework.Context) -> None:
        return None

    checks = framework.PHASES[42].checks
    assert [c.name for c in checks] == ["zebra", "aardvark", "middle"]
    assert [c.title for c in checks] == ["zebra first", "aardvark second", "middle third"]
    assert [(c.hint, c.live) for c in checks] == [("h1", False), ("h2", True), ("h3", False)]
    assert framework.CHECKS["aardvark"] is aardvark


def test_repeat_lists_the_same_check_again_at_that_point(empty_registry: None) -> None:
    framework.declare_phase(1, "01.md")
    framework.declare_phase(2, "02.md")

    @framework.check(phase=1, title="early", hint="h")
    def early(ctx: framework.Context) -> None:
        return None

    @framework.check(phase=2, title="own", hint="h")
    def own(ctx: framework.Context) -> None:
        return None

    framework.repeat(early, phase=2)
    assert framework.PHASES[2].checks == [own, early]
    assert framework.home_phase(early).number == 1
    assert list(framework.CHECKS) == ["early", "own"]  # once by name, though run twice


def test_registry_refuses_mistakes(empty_registry: None) -> None:
    def orphan(ctx: framework.Context) -> None:
        return None

    with pytest.raises(ValueError, match="phase 7 is not declared"):
        framework.check(phase=7, title="t", hint="h")(orphan)
    framework.declare_phase(7, "07.md")
    with pytest.raises(ValueError, match="phase 7 is declared twice"):
        framework.declare_phase(7, "07.md")
    framework.check(phase=7, title="t", hint="h")(orphan)
    with pytest.raises(ValueError, match="two checks are named orphan"):
        framework.check(phase=7, title="again", hint="h")(orphan)


def test_every_phase_has_a_module_and_at_least_one_check_of_its_own() -> None:
    assert [module.__name__.rsplit(".", 1)[-1] for module in cli.PHASE_MODULES] == [
        f"phase{n}" for n in range(11)
    ]
    for number, phase in framework.PHASES.items():
        own = [c for c in phase.checks if c.run.__module__.endswith(f".phase{number}")]
        assert own, f"phase {number} has no check of its own"
        # A check from elsewhere is a repeat of an earlier phase's check.
        for repeated in phase.checks:
            assert framework.home_phase(repeated).number <= number


def test_a_phase_runs_its_own_checks_in_source_order() -> None:
    for number, phase in framework.PHASES.items():
        own = [c for c in phase.checks if c.run.__module__.endswith(f".phase{number}")]
        lines = [inspect.getsourcelines(c.run)[1] for c in own]
        assert lines == sorted(lines), f"phase {number} runs its checks out of source order"


def test_no_module_is_long_without_saying_why() -> None:
    for path in sorted(VERIFY.glob("*.py")):
        text = path.read_text()
        if len(text.splitlines()) > 400:
            assert "long because" in text.split('"""')[1], f"{path.name} is long, says not why"


# --- names from their owners ---------------------------------------------------------


def test_stack_output_names_are_read_from_the_stack() -> None:
    names = infra.stack_output_names(ROOT)
    stack = (ROOT / infra.STACK_SOURCE).read_text()
    assert names
    for name in names:
        assert f'"{name}": (' in stack
    # The workflow's repository variables are set from stack outputs.
    assert set(REPOSITORY_VARIABLES.values()) <= set(names)


def test_a_stack_without_an_outputs_dict_is_named(tmp_path: Path) -> None:
    (tmp_path / infra.STACK_SOURCE).parent.mkdir(parents=True)
    (tmp_path / infra.STACK_SOURCE).write_text("x = 1\n")
    with pytest.raises(framework.CheckFailed, match=r"has no `outputs = \{\.\.\.\}` dict"):
        infra.stack_output_names(tmp_path)


def test_workload_names_come_from_the_rendered_chart_and_the_infra_config(
    tmp_path: Path,
) -> None:
    tool("helm")
    ctx = framework.Context(root=ROOT, live=False, scratch=tmp_path)
    deployed = chart.workload(ctx)
    config = infra.infra_config(ctx)
    values = files.load_yaml(ROOT / "helm" / "mcp-server" / "values.yaml")
    assert deployed.namespace == config.k8s_namespace
    # The rest are what the verifier hard-coded before it read them from the chart.
    assert deployed.secret == values["signingKey"]["secretName"]
    assert chart.release(ctx) == "mcp-server"
    assert deployed.deployment == deployed.service == chart.release(ctx)
    assert deployed.selector == (
        "app.kubernetes.io/name=mcp-server,app.kubernetes.io/instance=mcp-server"
    )
    assert deployed.external_secret == "mcp-server-signing-key"
    assert deployed.service_port == 8080
    assert infra.stack_dir(ctx) == ROOT / "infra/cdktf.out/stacks" / config.stack_name
