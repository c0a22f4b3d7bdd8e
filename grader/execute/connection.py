"""The grader's side of a kernel connection: bounded messages, and a watch on the sockets.

A student's cell can make the kernel send one enormous message (``print('x' * 10**9)``, an
exception whose text is a gigabyte): received whole, parsed and copied, it would cost the
grader several times its size in memory, before any output cap could see it. So every
socket of the connection refuses a message larger than ``max_bytes`` (ZeroMQ then drops the
connection), and a watcher thread per socket, told of the drop by the socket's monitor,
calls ``on_refused`` (the kernel is stopped and the cell reported as an output flood).
Disconnects that come from the kernel's death, or from stopping it, are not refusals.

The client connects while the kernel is still booting: its sockets retry every few
milliseconds (not ZeroMQ's default 100 ms), and it is ready as soon as the kernel answers on
shell and iopub, without jupyter_client's closing 0.2 s wait for a quiet iopub channel (the
cell runner reads only the messages of its own requests, so older ones need no flushing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.connect import channel_socket_types
from zmq.utils.monitor import recv_monitor_message

WATCHED = ("shell", "iopub", "control")
RECONNECT_MS = 5  # how often a socket retries a kernel that is not listening yet


class KernelClient(AsyncKernelClient):
    """A client of one kernel process (no kernel manager, no heartbeat)."""

    max_bytes: int = 2**62
    is_running: Callable[[], bool] = staticmethod(lambda: True)
    on_refused: Callable[[str], None] = staticmethod(lambda channel: None)

    async def _async_is_alive(self) -> bool:
        return self.is_running()

    is_alive = _async_is_alive

    async def _ready(self, timeout: float | None = None) -> None:
        """Wait until the kernel answers a kernel_info request and its iopub channel is
        connected (RuntimeError if it dies first, or past ``timeout`` seconds)."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                pass
            else:
                if reply["msg_type"] == "kernel_info_reply":
                    try:  # iopub connected? (a message sent before it was is lost: ask again)
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(reply)
                        return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    wait_for_ready = _ready

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> Any:
        # As jupyter_client's, with the size bound set before connecting (options apply to
        # connections made after they are set) and the socket watched.
        sock = self.context.socket(channel_socket_types[channel])
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, self.max_bytes)
        sock.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        if identity:
            sock.identity = identity
        sock.connect(self._make_url(channel))
        if channel in WATCHED:
            self._watch(sock, channel)
        return sock

    def _watch(self, sock: Any, channel: str) -> None:
        address = f"inproc://grade-monitor-{id(self)}-{channel}"
        sock.monitor(address, zmq.EVENT_DISCONNECTED | zmq.EVENT_MONITOR_STOPPED)
        pair: Any = zmq.Context.shadow(sock.context.underlying).socket(zmq.PAIR)
        pair.connect(address)
        thread = threading.Thread(target=self._watching, args=(pair, channel), daemon=True)
        thread.start()

    def _watching(self, pair: Any, channel: str) -> None:
        try:
            while True:
                event = recv_monitor_message(pair)["event"]
                if event == zmq.EVENT_MONITOR_STOPPED:
                    return
                if event == zmq.EVENT_DISCONNECTED and self.is_running():
                    self.on_refused(channel)
        except zmq.ZMQError:
            return  # the context is gone: the connection was closed
        finally:
            pair.close(linger=0)
