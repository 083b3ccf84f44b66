"""Shared fixtures: paths of the shared traces (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO.parent / "shared" / "traces"
NASA = TRACES / "nasa-http-1995" / "nasa_http_1995_per_minute.csv"
WIKIPEDIA = TRACES / "wikipedia-en-2016-01" / "wikipedia_en_pagecounts_2016-01_hourly.csv"


@pytest.fixture(scope="session")
def wikipedia_path() -> Path:
    assert WIKIPEDIA.exists(), f"shared trace missing: {WIKIPEDIA}"
    return WIKIPEDIA


@pytest.fixture(scope="session")
def nasa_path() -> Path:
    assert NASA.exists(), f"shared trace missing: {NASA}"
    return NASA
