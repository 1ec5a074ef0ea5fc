"""make bench's ratios come round by round: a load spike in one round does not move them.

Hand-made results stand in for wrk's (what is under test is the arithmetic of
the report, not a measurement); the real run is `make bench`.
"""

from __future__ import annotations

import subprocess

from benchmarks.run import COMPARED, VARIANTS, Result, Server, ratio, report


def server(name: str, per_round: list[float]) -> Server:
    variant = next(v for v in VARIANTS if v.name == name)
    results = [Result(rps, 10.0, 20.0, 1e6 / rps) for rps in per_round]
    ended = subprocess.Popen(["true"])  # the report never looks at the process
    ended.wait()
    return Server(variant, ended, "", 1.0, results)


def test_a_ratio_is_the_median_of_per_round_ratios_not_a_ratio_of_medians() -> None:
    # Round 2 hit the variant and its baseline alike (both halved): the ratio holds.
    variant = server("sign-in token", [900, 450, 880, 910, 890])
    baseline = server("limits in memory", [1000, 500, 1000, 1000, 1000])
    got = ratio(variant, baseline, "requests_per_second")
    assert got.median == 0.9
    assert (got.low, got.high) == (0.88, 0.91)


def test_the_report_says_whether_each_goal_is_met() -> None:
    rounds = {v.name: [1000.0, 1000.0, 1000.0] for v in VARIANTS}
    rounds["limits in Redis"] = [790.0, 700.0, 950.0]  # median ratio 0.79: under 0.8
    rounds["sign-in token"] = [710.0, 300.0, 720.0]  # one bad round: median 0.71
    servers = [server(name, per_round) for name, per_round in rounds.items()]
    lines = report(servers, {v.name: 100.0 for v in VARIANTS}, []).splitlines()
    goals = {name: goal for name, _, goal in COMPARED}
    redis = next(line for line in lines if line.startswith("- **limits in Redis / "))
    signin = next(line for line in lines if line.startswith("- **sign-in token / "))
    assert f"goal at least {goals['limits in Redis']}: NOT met" in redis
    assert "throughput 0.790 (rounds 0.70 to 0.95)" in redis
    assert f"goal at least {goals['sign-in token']}: met" in signin
