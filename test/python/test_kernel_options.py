"""The kernel options, defined once (include/flashmlir/Compiler/KernelOptions.def):
the table the compiler reports (flashmlirKernelOptions through
flashmlir._compiler.kernel_options), AttentionSpec's fields kept equal to it,
and the C API and AttentionSpec checking values against it."""

import dataclasses
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import flashmlir
from flashmlir import AttentionSpec, _compiler, spec

BASE = dict(dtype="bf16", batch=1, seqlen_q=129, seqlen_k=200, heads_q=4, heads_kv=2,
            head_dim=64, head_dim_v=64)


def table():
    return json.loads(_compiler.kernel_options())["options"]


def test_table_rows_are_well_formed():
    rows = table()
    names = [row["name"] for row in rows]
    assert len(names) == len(set(names))
    assert {"kernel", "chip", "opt_level", "block_m", "block_n", "stages", "ping_pong",
            "pv_schedule", "persistent_ctas", "schedule", "epilogue",
            "ctas_per_sm"} <= set(names)
    for row in rows:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", row["name"]), row
        assert row["flag"] == row["name"].replace("_", "-"), row
        assert row["group"] in ("plan", "tile", "codegen", "driver"), row
        assert row["description"], row
        kind = {"int": int, "bool": bool, "string": str}[row["type"]]
        assert type(row["default"]) is kind, row
        if row["type"] == "int":
            assert row["min"] <= row["default"], row
            assert row["max"] is None or row["default"] <= row["max"], row
        if row["type"] == "string" and row["values"]:
            assert row["default"] in row["values"], row
    # The values of the options that pick an attn enum are the enum's
    # (AttnAttrs.td) and auto.
    by_name = {row["name"]: row for row in rows}
    assert by_name["pv_schedule"]["values"] == ["auto", "serial", "deferred", "overlap"]
    assert by_name["epilogue"]["values"] == ["auto", "direct", "tma", "tma_in_q"]


def test_attention_spec_fields_match_the_table():
    """AttentionSpec keeps dataclass fields for the kernel options: the same
    names and defaults as the compiler's table (kernel: "auto", AttentionSpec's
    own choice between the table's kernels), except the options it leaves to
    the compiler (spec.COMPILER_ONLY_OPTIONS)."""
    rows = {row["name"]: row for row in table()}
    fields = {f.name: f.default for f in dataclasses.fields(AttentionSpec)}
    assert set(spec.COMPILER_ONLY_OPTIONS) <= set(rows)
    for name in spec.COMPILER_ONLY_OPTIONS:
        assert name not in fields, f"{name} is both a field and compiler-only"
    for name, row in rows.items():
        if name in spec.COMPILER_ONLY_OPTIONS:
            continue
        assert name in fields, f"the compiler's option {name} is no AttentionSpec field"
        if name == "kernel":
            assert fields[name] == spec.KERNEL_AUTO and row["default"] in row["values"]
            continue
        assert fields[name] == row["default"], (
            f"AttentionSpec.{name} defaults to {fields[name]!r}, the compiler's "
            f"table to {row['default']!r}")
    # What the C API is given: every one of them.
    options = AttentionSpec(**BASE).compile_options()
    assert set(options) == set(rows) - set(spec.COMPILER_ONLY_OPTIONS)


def test_spec_takes_exactly_the_tables_values():
    for row in table():
        name = row["name"]
        if name in spec.COMPILER_ONLY_OPTIONS:
            continue
        if row["type"] == "string" and row["values"]:
            allowed = spec.kernel_option_values(name)
            assert allowed[len(allowed) - len(row["values"]):] == tuple(row["values"])
            for value in row["values"]:
                if name == "kernel" and value == "simt":
                    AttentionSpec(**{**BASE, "dtype": "f32", name: value})
                else:
                    AttentionSpec(**{**BASE, name: value})
            with pytest.raises(ValueError, match=f"{name} must be one of") as error:
                AttentionSpec(**{**BASE, name: "bogus"})
            assert repr(allowed) in str(error.value)
        elif row["type"] == "int":
            with pytest.raises(ValueError, match=name):
                AttentionSpec(**{**BASE, name: row["min"] - 1})
            if row["max"] is not None:
                AttentionSpec(**{**BASE, name: row["max"]})
                with pytest.raises(ValueError, match=re.escape(
                        f"{name} must be an integer in [{row['min']}, {row['max']}]")):
                    AttentionSpec(**{**BASE, name: row["max"] + 1})
    # The module's value lists are the table's too.
    assert spec.PV_SCHEDULES == tuple(next(r for r in table()
                                           if r["name"] == "pv_schedule")["values"])


def test_c_api_checks_values_against_the_table():
    source = AttentionSpec(**BASE).to_mlir()
    for row in table():
        name = row["name"]
        if row["type"] == "string" and row["values"]:
            ok, text = _compiler.compile(source, json.dumps({name: "bogus"}))
            values = ", ".join(f'"{v}"' for v in row["values"][:-1])
            expected = (f"option '{name}' must be {values} or \"{row['values'][-1]}\", "
                        f'got "bogus"')
            assert not ok and expected in text, text
        elif row["type"] == "int" and row["max"] is not None:
            ok, text = _compiler.compile(source, json.dumps({name: row["max"] + 1}))
            assert not ok and f"option '{name}' must be" in text, text
            assert f"got {row['max'] + 1}" in text, text
        ok, text = _compiler.compile(source, json.dumps({name: [1]}))
        assert not ok and f"option '{name}' must be" in text, text


def test_import_without_the_compiler(tmp_path):
    """A launch-only install (no flashmlir._compiler) still imports and builds
    specs; the table, asked for directly, is a clear ImportError."""
    package = pathlib.Path(flashmlir.__file__).parent
    shutil.copytree(package, tmp_path / "flashmlir",
                    ignore=shutil.ignore_patterns("_compiler*", "__pycache__"))
    code = ("import flashmlir\n"
            "from flashmlir import AttentionSpec, spec\n"
            f"AttentionSpec(**{BASE!r}, pv_schedule='serial', epilogue='tma')\n"
            "try:\n    spec.kernel_options()\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "compiler is not available, and with it the kernel options' table" in out.stdout
