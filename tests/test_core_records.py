"""The record schemas (``spatial_r1_eval.records``) against what the code really writes and reads.

The generator's output — synthetic scenes made by the real pipeline (conftest ``synthetic_sr``) and the real ScanNet
scene in ``../shared/data`` — must have exactly the fields the ``TypedDict``s list, of the annotated types, in the
written order; the real VSI-Bench rows must become documents; answers must survive record -> training row ->
trainer / reward for every question type; bad rows must give one-line errors naming the place and the field.
"""

from __future__ import annotations

import ast
import json
import typing
from pathlib import Path
from typing import Any

import pytest

from spatial_r1_eval import records
from spatial_r1_eval.files import read_jsonl
from spatial_r1_eval.questions import QUESTION_TYPES, is_numerical
from spatial_r1_eval.records import (
    DOCUMENT_FIELDS,
    SR_RECORD_FIELDS,
    TRAINING_ROW_FIELDS,
    TRAINING_ROW_REQUIRED,
    LmmsDocument,
    SRRecord,
    TrainingRow,
    record_to_document,
    record_to_training_row,
    training_row_ground_truth,
    validate_document,
    validate_sr_record,
    validate_training_row,
)

REPO = Path(__file__).resolve().parents[1]


def _conforms(value: Any, annotation: Any) -> bool:
    """Whether ``value`` has the type ``annotation`` names (str, int, list[str], dict[str, Any])."""
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _check_against(schema: type, rows: list[dict], name: str) -> None:
    hints = typing.get_type_hints(schema)
    assert rows, f"{name}: no rows"
    for i, row in enumerate(rows, 1):
        # exactly the schema's fields, in the schema's order: the writer and the TypedDict cannot drift apart
        assert list(row) == list(schema.__annotations__), f"{name}:{i}: keys {list(row)}"
        for field, value in row.items():
            assert _conforms(value, hints[field]), f"{name}:{i}: {field}={value!r:.80} is not {hints[field]}"


@pytest.fixture(scope="module")
def real_sr(scannet_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SR export of the real scene ``scene0000_00`` (no ``.sens``: no frames, no video)."""
    from spatial_r1_eval.generation.pipeline import generate

    out = tmp_path_factory.mktemp("real_sr")
    report = generate(scannet_root, out, scenes=["scene0000_00"], seed=0, videos=False, progress=False)
    assert report["scenes"]["ok"] == 1, report["scenes"]
    return out


def _exports(sr_dir: Path) -> tuple[list[dict], list[dict]]:
    return read_jsonl(sr_dir / "sr.jsonl"), read_jsonl(sr_dir / "sr_train.jsonl")


def _check_export(sr_dir: Path) -> None:
    recs, rows = _exports(sr_dir)
    _check_against(SRRecord, recs, "sr.jsonl")
    _check_against(TrainingRow, rows, "sr_train.jsonl")
    for i, rec in enumerate(recs, 1):
        validate_sr_record(rec, f"sr.jsonl:{i}")
        assert rec["question_type"] in QUESTION_TYPES
        assert bool(rec["options"]) != is_numerical(rec["question_type"])
        assert rec["video"] == f"{rec['dataset']}/{rec['scene_name']}.mp4"
    for i, (row, rec) in enumerate(zip(rows, recs, strict=True)):
        validate_training_row(row, f"sr_train.jsonl:{i + 1}")
        assert (row["problem_id"], row["id"], row["problem"]) == (i, rec["id"], rec["question"])
        assert row["path"] == f"videos/{rec['video']}" and row["options"] == rec["options"]
        assert row["solution"] == f"<answer>{rec['ground_truth']}</answer>"
        assert row["problem_type"] == ("numerical" if is_numerical(rec["question_type"]) else "multiple choice")
        assert (row["data_type"], row["data_source"], row["question_type"]) == ("video", "SR", rec["question_type"])
        assert row["prompt"].startswith(rec["question"]) and "<answer>" in row["prompt"]
    # the Parquet copy: the record's columns in the record's order, meta as JSON text
    import pyarrow.parquet as pq

    table = pq.read_table(sr_dir / "sr.parquet")
    assert table.column_names == list(SR_RECORD_FIELDS)
    parquet = table.to_pylist()
    assert [{**p, "meta": json.loads(p["meta"])} for p in parquet] == recs


def test_synthetic_export_has_exactly_the_schemas_fields(synthetic_sr: Path) -> None:
    _check_export(synthetic_sr)


def test_real_scene_export_has_exactly_the_schemas_fields(real_sr: Path) -> None:
    _check_export(real_sr)


def test_documents_of_the_generated_records(synthetic_sr: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``load_sr_docs`` / ``process_docs`` give exactly the document schema, every value from its record."""
    from spatial_r1_eval.tasks import hooks

    recs = read_jsonl(synthetic_sr / "sr.jsonl")
    docs = hooks.load_sr_docs(synthetic_sr)
    _check_against(LmmsDocument, docs, "documents")
    for doc, rec in zip(docs, recs, strict=True):
        assert {k: doc[k] for k in SR_RECORD_FIELDS if k in doc and k != "meta"} == {
            k: rec[k] for k in SR_RECORD_FIELDS if k in doc and k != "meta"
        }
        assert json.loads(doc["meta"]) == rec["meta"]
        assert Path(doc["video_path"]) == (synthetic_sr / "videos" / rec["video"]).resolve()
        assert Path(doc["video_path"]).is_file()
    monkeypatch.setenv(hooks.SR_DIR_ENV, str(synthetic_sr))
    dataset = hooks.sr_process_docs()  # what lmms-eval gets: the same columns
    assert dataset.column_names == list(DOCUMENT_FIELDS)
    assert dataset[0] == docs[0]


def test_real_vsibench_rows_become_documents(vsibench_dir: Path) -> None:
    """VSI-Bench's rows have the SR record's fields but ``video`` and ``meta``: every one becomes a document."""
    from spatial_r1_eval.tasks.hooks import load_vsibench_docs

    rows = read_jsonl(vsibench_dir / "test.jsonl")
    assert set().union(*map(set, rows)) == set(SR_RECORD_FIELDS) - {"video", "meta"}
    docs = load_vsibench_docs(vsibench_dir)
    assert len(docs) == len(rows) == 5130
    _check_against(LmmsDocument, docs, "vsibench documents")
    assert {d["question_type"] for d in docs} == QUESTION_TYPES
    for doc, row in zip(docs, rows, strict=True):
        assert doc["ground_truth"] == str(row["ground_truth"]) and doc["options"] == list(row["options"] or [])


def _record(question_type: str, ground_truth: str, options: list[str]) -> dict[str, Any]:
    return {
        "id": f"sr-scene0001_00-{question_type}-0123456789",
        "dataset": "scannet",
        "scene_name": "scene0001_00",
        "question_type": question_type,
        "question": f"A question of type {question_type}?",
        "options": options,
        "ground_truth": ground_truth,
        "video": "scannet/scene0001_00.mp4",
        "meta": {"variant": "paper"},
    }


def _one_record_per_type() -> list[dict[str, Any]]:
    out = []
    for k, qt in enumerate(sorted(QUESTION_TYPES)):
        if is_numerical(qt):
            out.append(_record(qt, ("3", "12.5", "0.25", "230")[k % 4], []))
        else:
            options = [f"{'ABCD'[j]}. option {j}" for j in range(4)]
            out.append(_record(qt, "ABCD"[k % 4], options))
    return out


@pytest.mark.parametrize("record", _one_record_per_type(), ids=lambda r: r["question_type"])
def test_round_trip_record_training_row_answer_for_every_type(record: dict[str, Any], tmp_path: Path) -> None:
    from spatial_r1_eval.scoring import score
    from spatial_r1_eval.trainer.data import load_sr_train
    from spatial_r1_eval.trainer.rewards import accuracy_reward, scoring_records

    validate_sr_record(record, "test")
    row = record_to_training_row(record, 0)
    validate_training_row(row, "test")
    assert training_row_ground_truth(row) == record["ground_truth"]
    # through the trainer's loader (video must exist) and TRL's column kwargs of the reward
    video = tmp_path / row["path"]
    video.parent.mkdir(parents=True)
    video.write_bytes(b"")
    (tmp_path / "sr_train.jsonl").write_text(json.dumps(row) + "\n")
    loaded = load_sr_train(tmp_path / "sr_train.jsonl")[0]
    assert loaded["ground_truth"] == record["ground_truth"]
    column = {"question_type": [row["question_type"]], "solution": [row["solution"]], "options": [row["options"]]}
    assert scoring_records(1, **column)[0]["ground_truth"] == record["ground_truth"]
    # the answer written into ``solution`` scores 1 against the record, in the reward as in the evaluation
    perfect = f"<think>...</think>{row['solution']}"
    assert accuracy_reward([perfect], **column) == [1.0]
    assert score(perfect, record_to_document(record, "/v.mp4", "test")) == 1.0


def test_round_trip_on_generated_data(synthetic_sr: Path) -> None:
    from spatial_r1_eval.trainer.data import load_sr_train

    recs = read_jsonl(synthetic_sr / "sr.jsonl")
    loaded = load_sr_train(synthetic_sr / "sr_train.jsonl")
    assert len(loaded) == len(recs)
    for row in loaded:  # the GRPO rows keep problem_id (= the line in sr.jsonl), as text
        rec = recs[int(row["problem_id"])]
        assert (row["question_type"], row["problem"]) == (rec["question_type"], rec["question"])
        assert row["ground_truth"] == rec["ground_truth"]
        assert training_row_ground_truth({"solution": row["solution"]}) == rec["ground_truth"]


def _good() -> dict[str, Any]:
    return _record("object_rel_distance", "B", ["A. chair", "B. lamp", "C. door", "D. sink"])


@pytest.mark.parametrize("field", SR_RECORD_FIELDS)
def test_sr_record_missing_field_is_one_line(field: str) -> None:
    record = _good()
    del record[field]
    with pytest.raises(ValueError) as e:
        validate_sr_record(record, "sr.jsonl:3")
    assert str(e.value) == f"sr.jsonl:3: record has no {field!r} field"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": 7}, "sr.jsonl:3: field 'id' must be a string, got int"),
        ({"ground_truth": 2}, "sr.jsonl:3: field 'ground_truth' must be a string, got int"),
        ({"options": "A. chair"}, "sr.jsonl:3: field 'options' must be a list of strings"),
        ({"options": ["A. chair", 2]}, "sr.jsonl:3: field 'options' must be a list of strings"),
        ({"meta": "{}"}, "sr.jsonl:3: field 'meta' must be an object, got str"),
        ({"question_type": "object_height"}, "sr.jsonl:3: field 'question_type': unknown question type"),
        ({"options": []}, "sr.jsonl:3: field 'options': object_rel_distance records have options"),
        ({"question_type": "object_counting"}, "sr.jsonl:3: field 'options': object_counting records have no options"),
    ],
)
def test_sr_record_bad_value_is_one_line(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as e:
        validate_sr_record({**_good(), **change}, "sr.jsonl:3")
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_export_refuses_a_bad_record_before_writing(tmp_path: Path) -> None:
    from spatial_r1_eval.generation.export import export_all

    bad = _good()
    del bad["video"]
    with pytest.raises(ValueError, match=r"^sr\.jsonl record 2: record has no 'video' field$"):
        export_all(tmp_path, [_good(), bad])
    assert list(tmp_path.iterdir()) == []  # no partial output


@pytest.mark.parametrize("field", TRAINING_ROW_REQUIRED)
def test_training_row_missing_field_is_one_line(field: str, tmp_path: Path) -> None:
    from spatial_r1_eval.trainer.data import load_sr_train

    good = record_to_training_row(_good(), 0)
    for value in (None, ""):
        with pytest.raises(ValueError, match=rf"^sr_train\.jsonl:2: missing field {field!r}$"):
            validate_training_row({**good, field: value}, "sr_train.jsonl:2")
    row = dict(good)
    del row[field]
    path = tmp_path / "sr_train.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(row) + "\n")
    (tmp_path / good["path"]).parent.mkdir(parents=True)
    (tmp_path / good["path"]).write_bytes(b"")  # line 1 is good: its video exists
    with pytest.raises(ValueError, match=rf"sr_train\.jsonl:2: missing field {field!r}$"):
        load_sr_train(path)


def test_training_row_optional_fields_and_bad_values() -> None:
    good = record_to_training_row(_good(), 0)
    optional = [f for f in TRAINING_ROW_FIELDS if f not in TRAINING_ROW_REQUIRED]
    assert optional and set(optional).isdisjoint(TRAINING_ROW_REQUIRED)
    validate_training_row({f: good[f] for f in TRAINING_ROW_REQUIRED}, "x")  # Video-R1 rows from elsewhere
    with pytest.raises(ValueError, match=r"^x:1: data_type must be 'video', got 'image'$"):
        validate_training_row({**good, "data_type": "image"}, "x:1")
    with pytest.raises(ValueError, match=r"^x:1: options must be a list, got str$"):
        validate_training_row({**good, "options": "A. chair"}, "x:1")
    with pytest.raises(ValueError, match=r"^x:1: expected a JSON object, got list$"):
        validate_training_row([1], "x:1")


@pytest.mark.parametrize("field", records.DOCUMENT_SOURCE_FIELDS)
def test_document_source_missing_field_is_one_line(field: str, tmp_path: Path) -> None:
    from spatial_r1_eval.tasks.hooks import load_sr_docs

    record = _good()
    del record[field]
    with pytest.raises(ValueError, match=rf"^t:4: record has no {field!r} field$"):
        validate_document(record, "t:4")
    (tmp_path / "sr.jsonl").write_text(json.dumps(_good()) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(ValueError, match=rf"sr\.jsonl:2: record has no {field!r} field$"):
        load_sr_docs(tmp_path)


def test_document_from_a_minimal_row_gets_defaults() -> None:
    row = {"id": 5, "question_type": "room_size_estimation", "question": "q", "ground_truth": 21.5}
    doc = record_to_document(row, "/v.mp4", "x")
    assert list(doc) == list(DOCUMENT_FIELDS)
    expected = {"id": "5", "dataset": "", "scene_name": "", "question_type": "room_size_estimation", "question": "q",
                "options": [], "ground_truth": "21.5", "video_path": "/v.mp4", "meta": "{}"}  # fmt: skip
    assert doc == expected
    validate_document(doc, "x")  # a document is a valid source of itself
    with pytest.raises(ValueError, match=r"^x: field 'options' must be a list, got str$"):
        record_to_document({**doc, "options": "A. b"}, "/v.mp4", "x")


def test_every_schema_field_has_a_docstring_and_a_row_in_the_docs() -> None:
    tree = ast.parse((REPO / "spatial_r1_eval" / "records.py").read_text())
    page = (REPO / "docs" / "records.md").read_text()
    sections = {
        "SRRecord": page.split("## SR record")[1].split("\n## ")[0],
        "TrainingRow": page.split("## Training row")[1].split("\n## ")[0],
        "LmmsDocument": page.split("## lmms-eval document")[1].split("\n## ")[0],
    }
    schemas = {"SRRecord": SRRecord, "TrainingRow": TrainingRow, "LmmsDocument": LmmsDocument}
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def documented(name: str) -> list[str]:  # the fields with a docstring, the base class's first
        node = classes[name]
        inherited = [f for base in node.bases if getattr(base, "id", None) in classes for f in documented(base.id)]
        return inherited + [
            stmt.target.id
            for stmt, after in zip(node.body, node.body[1:], strict=False)
            if isinstance(stmt, ast.AnnAssign)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
            and after.value.value.startswith("``")  # the type first
        ]

    for name, schema in schemas.items():
        assert documented(name) == list(schema.__annotations__), name
        table_fields = [line.split("|")[1].strip().strip("`") for line in sections[name].splitlines()
                        if line.startswith("| `")]  # fmt: skip
        assert table_fields == list(schema.__annotations__), name
