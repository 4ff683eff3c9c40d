"""Shared fixtures for flashmlir's Python test suites."""

import hashlib
import json
import os
import pathlib
import re
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


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A fresh disk cache and an empty memory cache for one test."""
    import flashmlir
    monkeypatch.setenv("FLASHMLIR_CACHE_DIR", str(tmp_path / "cache"))
    flashmlir.cache.clear_memory()
    yield tmp_path / "cache"
    flashmlir.cache.clear_memory()


def cache_entry_path(cache_dir, spec, grad=False):
    """The disk-cache file of `spec`'s forward (or backward) kernels, under the folder
    of this build id."""
    import flashmlir
    folder = re.sub(r"[^A-Za-z0-9._+-]", "_", flashmlir.build_id())[:120]
    return cache_dir / folder / f"{spec.digest}{'-grad' if grad else ''}.json"


def rehash_entry(entry):
    """`entry` with a hash that matches its (edited) contents, as a writer who knows the
    format would make it."""
    text = json.dumps({"identity": entry["identity"], "payload": entry["payload"]},
                      sort_keys=True, separators=(",", ":"))
    entry["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return entry
