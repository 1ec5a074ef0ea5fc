"""An unhandled exception reaches Error Reporting: its log line carries what that service reads.

The server has no route that fails on purpose, so a stand-in ASGI app raises
(the one fake here); everything else is real: uvicorn on a loopback port logs
the exception, through the server's own logging set-up (app.logs), to stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx

from tests.helpers import ROOT
from tests.server_process import clean_env, free_port

FAILING_APP = """
import sys
import uvicorn
from app.logs import configure

async def app(scope, receive, send):
    raise RuntimeError("the stand-in app failed")

configure("INFO", "json")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, lifespan="off")
"""


def test_unhandled_exception_is_one_line_error_reporting_reads() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", FAILING_APP, str(port)],
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/anything", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
        assert answer.status_code == 500
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    entries = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    (failure,) = [e for e in entries if "stack_trace" in e]
    assert failure["severity"] == "ERROR"
    assert failure["@type"] == (
        "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent"
    )
    # Python's traceback.format_exc() text: the header, the frames, the exception last.
    trace = failure["stack_trace"]
    assert trace.startswith("Traceback (most recent call last):")
    assert '  File "<string>", line 7, in app' in trace
    assert trace.endswith("RuntimeError: the stand-in app failed")
    assert "Traceback" not in stderr
