"""The tests' redis-server: a port taken between picking it and binding it.

Two test processes (make mutate's forks, or any two runs at once) can pick the
same free port, and any client's ephemeral port can land on it: the first start
then picks another rather than failing, or serving the other test's store.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.redis_server import PortTaken, RedisServer


def _squat(port: int) -> socket.socket:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    return squatter


def test_a_port_taken_before_the_first_start_is_traded_for_another(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, durable=False)
    taken = server.port
    with _squat(taken):
        server.start()
        try:
            assert server.port != taken
            with server.client() as client:
                assert client.ping()
        finally:
            server.stop()


def test_a_restart_keeps_its_port_and_says_when_it_is_taken(tmp_path: Path) -> None:
    server = RedisServer(tmp_path, durable=False)
    server.start()
    port = server.port
    server.stop()
    with _squat(port), pytest.raises(PortTaken, match="Address already in use"):
        server.start()
    assert server.port == port
