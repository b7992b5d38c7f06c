"""Run the simulator on a real loopback socket in a background thread.

The app starts one of these by itself in offline mode, and tests start their own with the faults
they need: the client then talks real HTTP, exactly as it would to the API.
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from .config import SimulatorConfig
from .faults import DropConnections
from .routes import create_app
from .store import Simulator


class SimulatorServer:
    """A simulator listening on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        keep_alive: float = 5.0,
    ) -> None:
        self.app = create_app(config)
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this. Without it uvicorn's separate header and body
        # writes meet the client's delayed ACK on a kept-alive connection: +40 ms a reply.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(
                DropConnections(self.app, self.simulator),
                log_level="warning",
                access_log=False,
                lifespan="off",
                # Seconds an idle kept-alive connection stays open (uvicorn's default: 5).
                # Typed int, but uvicorn only hands it to loop.call_later: fractions work.
                timeout_keep_alive=keep_alive,  # type: ignore[arg-type]
            )
        )
        self._thread: threading.Thread | None = None

    @property
    def simulator(self) -> Simulator:
        """The simulated API's state (its tasks, callbacks sent, request count)."""
        sim: Simulator = self.app.state.simulator
        return sim

    @property
    def url(self) -> str:
        """The server's root, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.host}:{self.port}"

    @property
    def gateway_base(self) -> str:
        """The base a client uses, with the gateway's ``/kling`` prefix."""
        return self.url + "/kling"

    def start(self, timeout: float = 10.0) -> SimulatorServer:
        """Start serving in a daemon thread and wait until it accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name="simulator",
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The simulator did not start on {self.url}.")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
