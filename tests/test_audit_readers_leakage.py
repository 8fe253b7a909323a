"""spatial-r1 audit: readers and format detection, scene lists, leakage (synthetic leaky sets with known counts and
the real VSI-Bench questions), --fail-on-leak and generate --exclude-scenes with the built-in names."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spatial_r1_eval.audit.leakage import check_leakage
from spatial_r1_eval.audit.readers import read_rows
from spatial_r1_eval.commands.cli import main
from spatial_r1_eval.generation.scene_lists import builtin_scene_list, load_scene_list, scene_from_path
from spatial_r1_eval.generation.templates import TEMPLATES, infer_question


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _count_row(scene: str, video: str | None = None) -> dict:
    row = {"problem": TEMPLATES["object_counting"].format(category="chair"), "problem_type": "numerical",
           "options": [], "solution": "<answer>2</answer>"}  # fmt: skip
    row["path"] = video or f"./videos/{scene}.mp4"
    return row


def test_builtin_lists_are_the_benchmark_metadata_and_the_val_split(vsibench_dir: Path, scannet_root: Path) -> None:
    for dataset, n in (("scannet", 88), ("arkitscenes", 150), ("scannetpp", 50)):
        keys = json.loads((vsibench_dir / "meta_info" / f"{dataset}_meta_info_val.json").read_text())
        assert builtin_scene_list(f"vsibench-{dataset}") == sorted(keys) and len(keys) == n
    assert len(builtin_scene_list("vsibench")) == 288
    val = (scannet_root / "scannetv2_val.txt").read_text().split()
    assert builtin_scene_list("scannet-val") == sorted(val) and len(val) == 312


def test_scene_lists_by_name_or_file_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "mine.txt"
    f.write_text("# held out\nscene0001_00\n\nscene0002_00  # comment\n")
    assert load_scene_list(f) == ["scene0001_00", "scene0002_00"]
    assert load_scene_list("vsibench-scannetpp")[:1] == ["09c1414f1b"]
    with pytest.raises(FileNotFoundError, match="built-in lists: vsibench, vsibench-arkitscenes"):
        load_scene_list(str(tmp_path / "nope.txt"))


@pytest.mark.parametrize(
    ("path", "scene"),
    [("videos/scannet/scene0024_02.mp4", "scene0024_02"), ("ARKitScenes/Validation/41069025/video.mp4", "41069025"),
     ("scannetpp/data/7b6477cb95/dslr/rgb.mp4", "7b6477cb95"), ("LLaVA-Video-178K/1_2_m_academic/v_abc.mp4", None)],
)  # fmt: skip
def test_scene_from_video_path(path: str, scene: str | None) -> None:
    assert scene_from_path(path) == scene


def test_readers_detect_formats_and_normalise(tmp_path: Path) -> None:
    q_easy = TEMPLATES["object_rel_direction_easy"].format(positioning="bed", orienting="sofa", querying="tv")
    train = [
        {"problem_id": 1, "problem": q_easy, "problem_type": "free-form", "options": [],
         "solution": "<answer>right</answer>", "path": "./SR/scene0024_02.mp4", "data_type": "video"},
        {"problem_id": 2, "problem": q_easy, "problem_type": "multiple choice", "options": ["A. left", "B. right"],
         "solution": "B", "video": "arkitscenes/41069025.mp4"},
        {"problem_id": 3, "problem": "What is shown?", "problem_type": "OCR", "options": [], "solution": "a cat",
         "path": "LLaVA/clip.mp4"},
    ]  # fmt: skip
    fmt, rows = read_rows(_jsonl(tmp_path / "train.jsonl", train))
    assert fmt == "video-r1"
    a, b, c = rows
    assert (a.question_type, a.type_inferred, a.open_ended, a.options, a.ground_truth, a.answer_text()) == (
        "object_rel_direction_easy",
        True,
        True,
        ["A. left", "B. right"],
        "B",
        "right",
    )
    assert (a.scene, a.dataset, b.scene, b.dataset, b.ground_truth) == (
        "scene0024_02",
        "scannet",
        "41069025",
        "arkitscenes",
        "B",
    )
    assert (c.question_type, c.scene) == (None, None)
    # the same rows as a JSON list and as Parquet read identically
    (tmp_path / "train.json").write_text(json.dumps(train))
    assert read_rows(tmp_path / "train.json")[1] == rows
    table = pa.Table.from_pylist([{k: v for k, v in r.items() if k != "video"} | {"path": r.get("path") or r["video"]}
                                  for r in train])  # fmt: skip
    pq.write_table(table, tmp_path / "train.parquet")
    assert [r.scene for r in read_rows(tmp_path / "train.parquet")[1]] == ["scene0024_02", "41069025", None]


def test_readers_errors_name_file_line_and_field(tmp_path: Path) -> None:
    bad = _jsonl(tmp_path / "a.jsonl", [{"foo": 1}])
    with pytest.raises(ValueError, match=r"a\.jsonl:1: unknown row format \(fields: foo\); expected VSI-Bench"):
        read_rows(bad)
    rows = [_count_row("scene0001_00"), _count_row("scene0002_00"), {"problem": "x"}]
    with pytest.raises(ValueError, match=r"b\.jsonl:3: missing field 'solution'"):
        read_rows(_jsonl(tmp_path / "b.jsonl", rows))
    (tmp_path / "c.jsonl").write_text(json.dumps(_count_row("s")) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"c\.jsonl:2: malformed JSON"):
        read_rows(tmp_path / "c.jsonl")
    opts = {**_count_row("s"), "options": "A. x"}
    with pytest.raises(ValueError, match=r"d\.jsonl:1: field 'options' must be a list of strings"):
        read_rows(_jsonl(tmp_path / "d.jsonl", [opts]))


def test_synthetic_leaky_set_known_counts(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    vsi_scannet = builtin_scene_list("vsibench-scannet")
    val_only = sorted(set(builtin_scene_list("scannet-val")) - set(vsi_scannet))
    arkit = builtin_scene_list("vsibench-arkitscenes")
    pp = builtin_scene_list("vsibench-scannetpp")
    rows = (
        [_count_row(s) for s in vsi_scannet[:3] for _ in range(2)]  # 6 rows, 3 VSI-Bench ScanNet scenes (also val)
        + [_count_row(s) for s in val_only[:4]]  # 4 rows, val only
        + [_count_row(s, f"ARKitScenes/{s}.mp4") for s in arkit[:5]]  # 5 rows
        + [_count_row(s, f"scannetpp/{s}/iphone.mp4") for s in pp[:2]]  # 2 rows
        + [_count_row(s) for s in ("scene0000_00", "scene0707_00", "scene9000_00")]  # train scenes: clean
        + [_count_row("x", "ARKitScenes/40753679.mp4"), _count_row("x", "LLaVA/clip.mp4")]  # clean / no scene
    )
    path = _jsonl(tmp_path / "leaky.jsonl", rows)
    rep = check_leakage(read_rows(path)[1])
    per = rep["vsibench"]["per_dataset"]
    assert (per["scannet"]["rows"], per["arkitscenes"]["rows"], per["scannetpp"]["rows"]) == (6, 5, 2)
    assert per["scannet"]["scenes"] == vsi_scannet[:3] and per["scannetpp"]["scenes"] == sorted(pp[:2])
    assert rep["vsibench"]["rows"] == 13 and rep["vsibench"]["lines"][:6] == [1, 2, 3, 4, 5, 6]
    assert rep["scannet_val"]["rows"] == 10 and len(rep["scannet_val"]["scenes"]) == 7
    assert rep["leaking_rows"] == 17 and rep["rows_without_scene"] == 1
    # the command: exit 1 with --fail-on-leak, 0 without; the JSON report carries the same counts
    out = tmp_path / "r.json"
    assert main(["audit", str(path), "--no-bias", "--fail-on-leak", "--json", str(out)]) == 1
    assert json.loads(out.read_text())["leakage"] == json.loads(json.dumps(rep))
    printed = capsys.readouterr().out
    assert re.search(r"VSI-Bench scannet +6 +3 / 88 +scene", printed)
    assert "3 rows with issues" in printed  # the second copy of each repeated scene's question is a duplicate
    assert main(["audit", str(path), "--no-bias"]) == 0
    clean = _jsonl(tmp_path / "clean.jsonl", rows[-5:])
    assert main(["audit", str(clean), "--no-bias", "--fail-on-leak"]) == 0


def test_real_vsibench_rows_are_all_flagged(vsibench_dir: Path) -> None:
    raw = [json.loads(line) for line in (vsibench_dir / "test.jsonl").read_text().splitlines()]
    fmt, rows = read_rows(vsibench_dir / "test.jsonl")
    assert fmt == "vsibench" and len(rows) == len(raw) == 5130
    rep = check_leakage(rows)
    assert rep["vsibench"]["rows"] == 5130 and rep["leaking_rows"] == 5130
    expected = Counter(r["dataset"] for r in raw)
    assert {d: b["rows"] for d, b in rep["vsibench"]["per_dataset"].items()} == dict(expected)
    assert {d: len(b["scenes"]) for d, b in rep["vsibench"]["per_dataset"].items()} == {
        "arkitscenes": 150, "scannet": 88, "scannetpp": 50}  # fmt: skip
    assert rep["scannet_val"]["rows"] == expected["scannet"]  # every VSI-Bench ScanNet scene is a val scene
    # every real question's type is recovered from the templates alone
    assert all(infer_question(r["question"])[0] == r["question_type"] for r in raw)


def test_generate_excludes_builtin_list_by_name(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from spatial_r1_eval.generation.synth import SynthOptions, write_synthetic_scene, write_synthetic_scenes

    opts = {"n_points": 5000, "n_frames": 4, "width": 32, "height": 24}
    write_synthetic_scenes(tmp_path / "root", 1, 0, **opts)
    leaky = builtin_scene_list("vsibench-scannet")[0]
    write_synthetic_scene(tmp_path / "root", leaky, 0, SynthOptions(**opts))  # named like a VSI-Bench scene
    out = tmp_path / "out"
    args = ["generate", "--scannet", str(tmp_path / "root"), "--out", str(out), "--no-videos", "--no-progress"]
    assert main([*args, "--exclude-scenes", "vsibench"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["scenes"]["excluded"] == [leaky] and report["scenes"]["ok"] == 1
    assert {r["scene_name"] for r in map(json.loads, (out / "sr.jsonl").read_text().splitlines())} == {
        "scene9000_00"}  # fmt: skip
    assert main(["audit", str(out / "sr_train.jsonl"), "--no-bias", "--fail-on-leak"]) == 0
    assert main([*args, "--exclude-scenes", "no-such-list"]) == 2
    assert "no-such-list: no such scene list file (built-in lists: vsibench" in capsys.readouterr().err


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["audit", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == f"spatial-r1 audit: error: {tmp_path / 'missing.jsonl'}: no such file"
    (tmp_path / "empty.jsonl").write_text("\n")
    assert main(["audit", str(tmp_path / "empty.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("empty.jsonl: no rows\n")
    good = _jsonl(tmp_path / "g.jsonl", [_count_row("scene9000_00")])
    assert main(["audit", str(good), "--margin", "500"]) == 2
    assert "--margin is in points (0-100), got 500.0" in capsys.readouterr().err
    assert main(["audit", str(good), "--scannet", str(tmp_path)]) == 2
    assert "no such folder (--scannet expects the ScanNet layout" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.json"))  # nothing half-written
