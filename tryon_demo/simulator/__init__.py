"""The offline simulator of the Kolors virtual try-on API."""

from .config import Faults, SimulatorConfig
from .routes import create_app
from .server import SimulatorServer
from .store import Simulator

__all__ = ["Faults", "Simulator", "SimulatorConfig", "SimulatorServer", "create_app"]
