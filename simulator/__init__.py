"""Simulated sector systems for the demo and the tests (deterministic with a seed).

Each sector's module has ``simulate(paths, as_of, seed) -> dict[str, int]``, which brings that
sector's demo system to its state at ``as_of``; a module whose system is a network service also
has ``serve(paths, as_of, seed)``, a context manager that runs it on 127.0.0.1 and points the
catalogue's connection variables at it. The modules are found by those names: adding a sector
adds a module.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import ModuleType

from maglumat.settings import MaglumatPaths


def sector_modules() -> list[ModuleType]:
    """Every simulator module that has a ``simulate`` function, by name."""
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "simulate", None)):
            modules.append(module)
    return modules


def simulate_all(paths: MaglumatPaths, as_of: dt.datetime, seed: int) -> dict[str, dict[str, int]]:
    """Bring every simulated sector system to ``as_of``."""
    return {
        module.__name__.rpartition(".")[2]: module.simulate(paths, as_of, seed)
        for module in sector_modules()
    }


@contextmanager
def serving_all(paths: MaglumatPaths, as_of: dt.datetime, seed: int) -> Iterator[list[str]]:
    """Run every simulated network service for the duration; yields their module names."""
    with ExitStack() as stack:
        served = []
        for module in sector_modules():
            serve = getattr(module, "serve", None)
            if callable(serve):
                stack.enter_context(serve(paths, as_of, seed))
                served.append(module.__name__.rpartition(".")[2])
        yield served
