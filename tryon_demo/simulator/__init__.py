"""The offline simulator of the Kolors virtual try-on API."""

from .app import Faults, Simulator, SimulatorConfig, create_app
from .server import SimulatorServer

__all__ = ["Faults", "Simulator", "SimulatorConfig", "SimulatorServer", "create_app"]
