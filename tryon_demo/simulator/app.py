"""The simulator's public names in one place, where they have always been importable from.

The work is split by job: ``routes`` (the HTTP API), ``checks`` (what a request must satisfy),
``store`` (tasks, their timing, results and callbacks), ``faults`` (injected failures),
``render`` with ``garment``, ``body`` and ``dress`` (the simulated try-on picture).
"""

from .config import Faults, SimulatorConfig
from .contract import API_PATH, CONTRACT_ERRORS, GARMENTS_KEY, RESULTS_PATH
from .faults import DropConnections
from .routes import create_app
from .store import SimTask, Simulator

__all__ = [
    "API_PATH",
    "CONTRACT_ERRORS",
    "GARMENTS_KEY",
    "RESULTS_PATH",
    "DropConnections",
    "Faults",
    "SimTask",
    "Simulator",
    "SimulatorConfig",
    "create_app",
]
