"""The grader's kernel client: when it calls a kernel ready, and how its sockets retry."""

from __future__ import annotations

import asyncio
from queue import Empty

import pytest
import zmq

from grader.execute.connection import RECONNECT_MS, KernelClient


class _Channel:
    """A channel that hands out given messages, then is empty (and counts the asks)."""

    def __init__(self, *messages):
        self.messages = list(messages)
        self.asks = 0

    async def get_msg(self, timeout=None):
        self.asks += 1
        if not self.messages:
            raise Empty
        return self.messages.pop(0)


class _Client(KernelClient):
    shell_channel = None  # plain attributes here, set per test (no sockets)
    iopub_channel = None

    def kernel_info(self):
        self.requests += 1
        return f"request-{self.requests}"


def _client(shell, iopub, alive=True):
    client = _Client()
    client.requests = 0
    client.shell_channel, client.iopub_channel = shell, iopub
    client.is_running = lambda: alive
    return client


REPLY = {"msg_type": "kernel_info_reply", "content": {"protocol_version": "5.3"}}
STATUS = {"msg_type": "status", "content": {"execution_state": "busy"}}


def test_ready_once_shell_answers_and_iopub_is_connected_without_a_trailing_flush():
    shell, iopub = _Channel(REPLY), _Channel(STATUS, STATUS, STATUS)
    client = _client(shell, iopub)
    asyncio.run(client.wait_for_ready(timeout=5))
    # one message proves iopub connected; the others wait for the cell runner, which reads
    # only its own requests' messages (jupyter_client would read iopub until 0.2 s of quiet)
    assert (client.requests, shell.asks, iopub.asks) == (1, 1, 1)
    assert iopub.messages == [STATUS, STATUS]


def test_a_reply_before_iopub_connected_asks_again():
    shell, iopub = _Channel(REPLY, REPLY), _Channel()
    client = _client(shell, iopub)
    iopub_get = iopub.get_msg

    async def connects_late(timeout=None):  # the first request's iopub messages were lost
        if iopub.asks == 1:
            iopub.messages.append(STATUS)
        return await iopub_get(timeout)

    iopub.get_msg = connects_late
    asyncio.run(client.wait_for_ready(timeout=5))
    assert client.requests == 2


def test_a_dead_kernel_is_not_waited_for():
    client = _client(_Channel(), _Channel(), alive=False)
    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(client.wait_for_ready(timeout=5))


def test_sockets_retry_a_kernel_that_is_not_listening_yet_every_few_ms(tmp_path):
    client = KernelClient()
    client.load_connection_info(
        {"transport": "ipc", "ip": str(tmp_path / "k"), "shell_port": 1, "key": b"k"}
    )
    sock = client._create_connected_socket("shell")
    try:
        assert sock.getsockopt(zmq.RECONNECT_IVL) == RECONNECT_MS
    finally:
        sock.close(linger=0)
        client.context.term()
