"""Command-line flags derived from the config dataclasses (generation/config_flags.py) and the real CLI's errors."""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys

import pytest

from spatial_r1_eval.generation.config import GeneratorConfig
from spatial_r1_eval.generation.config_flags import add_dataclass_flags, flag_name, from_flags
from spatial_r1_eval.generation.filters import FilterConfig
from spatial_r1_eval.generation.synth import SynthOptions
from spatial_r1_eval.generation.synth_cli import FLAGS as SYNTH_FLAGS


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "spatial_r1_eval.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("cls", [SynthOptions, GeneratorConfig, FilterConfig])
def test_every_field_is_a_documented_flag_that_round_trips(cls):
    parser = argparse.ArgumentParser()
    add_dataclass_flags(parser, cls)
    assert from_flags(cls, parser.parse_args([])) == cls()  # no flag given: the dataclass's own defaults
    help_text = " ".join(parser.format_help().split())
    for f in dataclasses.fields(cls):
        assert f.metadata["help"] and flag_name(f.name) in help_text
        assert " ".join(f.metadata["help"].split()) in help_text


def test_values_reach_the_dataclass_typed():
    parser = argparse.ArgumentParser()
    add_dataclass_flags(parser, SynthOptions, flags=SYNTH_FLAGS)
    opts = from_flags(SynthOptions, parser.parse_args(["--points", "5000", "--frames", "7", "--jpeg-quality", "80"]))
    assert (opts.n_points, opts.n_frames, opts.jpeg_quality, opts.width) == (5000, 7, 80, 640)
    parser = argparse.ArgumentParser()
    add_dataclass_flags(parser, FilterConfig)
    assert from_flags(FilterConfig, parser.parse_args(["--max-per-task", "3"])).max_per_task == 3
    parser = argparse.ArgumentParser()
    add_dataclass_flags(parser, GeneratorConfig, only=["variant", "room_alpha"])
    cfg = from_flags(GeneratorConfig, parser.parse_args(["--room-alpha", "1.5"]), only=["variant", "room_alpha"])
    assert cfg.room_alpha == 1.5 and isinstance(cfg.room_alpha, float) and cfg.variant == "paper"


def test_bool_fields_and_undocumented_fields():
    @dataclasses.dataclass
    class Opts:
        fast: bool = dataclasses.field(default=False, metadata={"help": "go fast"})
        quiet: bool = dataclasses.field(default=True, metadata={"help": "say little"})

    parser = argparse.ArgumentParser()
    add_dataclass_flags(parser, Opts)
    assert from_flags(Opts, parser.parse_args(["--fast", "--no-quiet"])) == Opts(fast=True, quiet=False)

    @dataclasses.dataclass
    class Bare:
        n: int = 1

    with pytest.raises(ValueError, match=r"Bare\.n: no metadata\['help'\]"):
        add_dataclass_flags(argparse.ArgumentParser(), Bare)
    with pytest.raises(ValueError, match="no field"):
        add_dataclass_flags(argparse.ArgumentParser(), Opts, only=["slow"])


def test_cli_bad_values_are_one_line_naming_the_flag(tmp_path):
    proc = _cli("generate", "--scannet", str(tmp_path), "--out", str(tmp_path / "o"), "--route-max-turns", "9")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "spatial-r1 generate: error: --route-max-turns: GeneratorConfig.route_max_turns must be in 1..4, got 9"
    )
    proc = _cli("generate", "--scannet", str(tmp_path), "--out", str(tmp_path / "o"), "--variant", "bogus")
    assert proc.returncode == 2 and "argument --variant: invalid choice: 'bogus'" in proc.stderr
    proc = _cli("synth", "--out", str(tmp_path / "s"), "--points", "many")
    assert proc.returncode == 2 and "argument --points: invalid int value: 'many'" in proc.stderr
    proc = _cli("synth", "--out", str(tmp_path / "s"), "--jpeg-quality", "0")
    assert proc.returncode == 2 and "error: --jpeg-quality: jpeg_quality must be in [1, 100], got 0" in proc.stderr
    assert not (tmp_path / "s").exists()  # rejected before anything is written
