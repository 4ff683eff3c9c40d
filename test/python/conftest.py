"""Shared fixtures for flashmlir's Python test suites."""

import os
import pathlib
import shutil

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def attn_opt() -> str:
    """Path of the attn-opt binary: $ATTN_OPT, build/bin, or PATH."""
    candidates = [os.environ.get("ATTN_OPT"), str(REPO_ROOT / "build" / "bin" / "attn-opt"),
                  shutil.which("attn-opt")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    pytest.fail("attn-opt not found: build it (tools/setup.sh) or set ATTN_OPT")
