"""The benchmark's picture: throughput and latency per server, side by side."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import matplotlib

matplotlib.use("Agg")  # files only: no display on build machines

import matplotlib.pyplot as plt


class Figures(Protocol):
    @property
    def requests_per_second(self) -> float: ...
    @property
    def p50_ms(self) -> float: ...
    @property
    def p99_ms(self) -> float: ...


def draw(results: Mapping[str, Figures], path: Path) -> None:
    names = list(results)
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 4.2), layout="constrained")
    colors = ["#9e9e9e" if n.startswith("peer") else "#1f77b4" for n in names]
    bars = left.bar(names, [results[n].requests_per_second for n in names], color=colors)
    left.bar_label(bars, fmt="%.0f")
    left.set_title("Throughput (req/s, higher is better)")
    left.margins(y=0.15)
    x = range(len(names))
    width = 0.38
    p50 = right.bar([i - width / 2 for i in x], [results[n].p50_ms for n in names], width)
    p99 = right.bar([i + width / 2 for i in x], [results[n].p99_ms for n in names], width)
    right.bar_label(p50, fmt="%.1f", fontsize=8)
    right.bar_label(p99, fmt="%.1f", fontsize=8)
    right.set_xticks(list(x), names)
    for axes in (left, right):
        axes.tick_params(axis="x", labelrotation=25, labelsize=8)
    right.legend([p50, p99], ["p50", "p99"])
    right.set_title("Latency (ms, lower is better)")
    right.margins(y=0.15)
    fig.suptitle("MCP tools/call over loopback, 16 connections (median of rounds)")
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
