"""The offline simulator of the Kolors virtual try-on API: an HTTP server that answers as the
API does and dresses the person in its own picture. May import ``settings`` and ``hosting``'s
network policy (it refuses callback URLs as the API would); never ``flow`` or ``ui``."""

from .config import Faults, SimulatorConfig
from .routes import create_app
from .server import SimulatorServer
from .store import Simulator

__all__ = ["Faults", "Simulator", "SimulatorConfig", "SimulatorServer", "create_app"]
