"""Files laid out and updated the way kubelet mounts a Secret or ConfigMap, and a
server reading its keys and deny-list from them (test_day2, test_reload_metrics).

`name -> ..data/name`, `..data -> ..<timestamp>/`, and an update is an atomic
rename of a new `..data` link onto the old one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

KEY_A = "a" * 48
KEY_B = "b" * 48


class KubeletVolume:
    """A folder updated the way kubelet updates a mounted Secret or ConfigMap."""

    def __init__(self, root: Path, files: dict[str, str]) -> None:
        self.root = root
        root.mkdir()
        self._generation = 0
        self.update(files)

    def update(self, files: dict[str, str]) -> None:
        self._generation += 1
        payload = self.root / f"..2026_12_01_10_00_{self._generation:02d}.000000"
        payload.mkdir()
        for name, content in files.items():
            (payload / name).write_text(content)
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(f"..data/{name}")
        staging = self.root / "..data_tmp"
        staging.symlink_to(payload.name)
        os.replace(staging, self.root / "..data")  # the atomic flip

    def path(self, name: str) -> Path:
        return self.root / name


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> float:
    """Seconds until `condition()` held; fail after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError("the server did not pick up the change")
        time.sleep(0.05)
    return time.monotonic() - start
