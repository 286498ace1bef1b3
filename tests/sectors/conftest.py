"""Fixtures of the sector tests: the real catalogue entries of two inbox systems, pointed at
the test's home (their inbox variables unset)."""

from __future__ import annotations

import pytest

from maglumat.catalogue import SourceSystem
from maglumat.settings import MaglumatPaths
from tests.sectors.inbox_support import CHEMICAL, FUEL, catalogue_system


@pytest.fixture
def fuel(maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch) -> SourceSystem:
    monkeypatch.delenv("MAGLUMAT_FUEL_ENERGY_PRODUCTION_INBOX", raising=False)
    return catalogue_system(FUEL)


@pytest.fixture
def chemical(maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch) -> SourceSystem:
    monkeypatch.delenv("MAGLUMAT_CHEMICAL_MONTHLY_FORM_INBOX", raising=False)
    return catalogue_system(CHEMICAL)
