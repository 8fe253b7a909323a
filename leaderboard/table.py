"""The leaderboard table: rows (published reference rows and lmms-eval runs) x the paper's columns.

Scores are shown x100 with one decimal, in the paper's Table 1 column order. The best value of each column
is marked (bold), an optional baseline row adds a signed difference to every other cell, and
:meth:`Leaderboard.consistency_issues` flags rows whose Overall is not the mean of their task columns.
Renders to Markdown (tabulate), LaTeX (booktabs) and CSV; the HTML page lives in ``leaderboard.html``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from spatial_r1_eval.leaderboard.protocol import COMPARABLE, VSIBENCH_FINGERPRINT, Protocol, read_protocol
from spatial_r1_eval.leaderboard.runs import COLUMNS, TaskRun

#: Column -> header text (the paper's Table 1 wording).
LABELS: dict[str, str] = {
    "obj_appearance_order": "Obj Appearance Order",
    "object_abs_distance": "Object Abs Distance",
    "object_counting": "Object Counting",
    "object_rel_distance": "Object Rel Distance",
    "object_size_estimation": "Object Size Estimation",
    "room_size_estimation": "Room Size Estimation",
    "route_planning": "Route Planning",
    "object_rel_direction": "Object Rel Direction",
    "overall": "Overall",
}
TASK_COLUMNS: tuple[str, ...] = COLUMNS[:-1]
FORMATS: tuple[str, ...] = ("md", "latex", "csv")
MISSING = "-"
#: Published values have one decimal, so their mean may differ from a (rounded) Overall by up to 0.1.
REFERENCE_TOLERANCE = 0.1
#: Run rows carry full-precision scores (lmms-eval rounds to 1e-6): any larger gap is a real inconsistency.
RUN_TOLERANCE = 1e-3


@dataclass
class Row:
    """One table row.

    Attributes:
        name: Row label.
        values: Column -> score on the 0-100 scale, ``None`` when missing.
        kind: ``"reference"`` (published) or ``"run"`` (an lmms-eval output).
        ci: Column -> ``(low, high)`` 95% bootstrap interval (0-100), for runs when requested.
        run: The lmms-eval task run behind a ``"run"`` row.
        group: The question set the row was scored on (fingerprint); best values are marked within a group only.
        protocol: How a run row was produced (``leaderboard.protocol``).
    """

    name: str
    values: dict[str, float | None]
    kind: str = "run"
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    run: TaskRun | None = None
    group: str | None = None
    protocol: Protocol | None = None


@dataclass(frozen=True)
class Inconsistency:
    """A row whose Overall differs from the mean of its task columns (0-100 scale)."""

    name: str
    published: float
    computed: float
    n_tasks: int

    def __str__(self) -> str:
        return (
            f"{self.name}: Overall {self.published:.1f} is not the mean of its {self.n_tasks} task columns "
            f"({self.computed:.2f})"
        )


def fmt(value: float | None) -> str:
    """One-decimal text of a 0-100 score, ``-`` when missing.

    Example:
        >>> fmt(41.75), fmt(None), fmt(0.0)
        ('41.8', '-', '0.0')
    """
    return MISSING if value is None else f"{value:.1f}"


def _shown(value: float | None) -> float | None:
    return None if value is None else float(fmt(value))


@dataclass
class Leaderboard:
    """Rows in display order plus an optional baseline row name (for the Δ columns)."""

    rows: list[Row]
    baseline: str | None = None

    def __post_init__(self) -> None:
        names = [r.name for r in self.rows]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate row name(s) {duplicates}")
        if self.baseline is not None and self.baseline not in names:
            raise ValueError(f"--baseline {self.baseline!r} is not a row; rows are: {', '.join(names)}")

    def row(self, name: str) -> Row:
        """The row called ``name`` (ValueError listing the rows otherwise)."""
        for r in self.rows:
            if r.name == name:
                return r
        raise ValueError(f"no row named {name!r}; rows are: {', '.join(r.name for r in self.rows)}")

    def best(self, column: str) -> set[str]:
        """Names of the rows holding the highest shown (one-decimal) value of ``column`` within their question set
        (:attr:`Row.group`; ties all count). A group with fewer than two values in the column, or whose rows all show
        the same value (e.g. every random model at 0.0), has no best.

        Example:
            >>> lb = Leaderboard([Row("a", {"overall": 40.04}), Row("b", {"overall": 39.96}), Row("c", {})])
            >>> sorted(lb.best("overall"))
            []
            >>> lb = Leaderboard([Row("a", {"overall": 40.04}), Row("b", {"overall": 39.96}), Row("c", {"overall": 3})
            ...                   ])
            >>> sorted(lb.best("overall"))
            ['a', 'b']
            >>> lb = Leaderboard([Row("a", {"overall": 40.0}, group="x"), Row("b", {"overall": 90.0}, group="y"),
            ...                   Row("c", {"overall": 30.0}, group="x")])
            >>> sorted(lb.best("overall"))
            ['a']
        """
        out: set[str] = set()
        for group in dict.fromkeys(r.group for r in self.rows):
            shown = {r.name: _shown(r.values.get(column)) for r in self.rows if r.group == group}
            present = [v for v in shown.values() if v is not None]
            if len(present) < 2 or len(set(present)) == 1:  # nothing to compare against, or nothing stands out
                continue
            top = max(present)
            out |= {n for n, v in shown.items() if v == top}
        return out

    def groups(self) -> dict[str | None, list[Row]]:
        """Question set -> its rows, in first-appearance order."""
        out: dict[str | None, list[Row]] = {}
        for r in self.rows:
            out.setdefault(r.group, []).append(r)
        return out

    def protocol_issues(self) -> list[str]:
        """Run rows ranked together (same question set) that were produced under different protocols."""
        issues = []
        for group, rows in self.groups().items():
            runs = [r for r in rows if r.protocol is not None]
            if len({r.protocol.comparable() for r in runs}) > 1:
                names = ", ".join(r.name for r in runs)
                differ = [label for f, label in COMPARABLE.items() if len({getattr(r.protocol, f) for r in runs}) > 1]
                issues.append(f"question set {group}: rows {names} differ in {' / '.join(differ)} (see --protocol)")
        return issues

    def delta(self, row: Row, column: str) -> float | None:
        """Shown value of ``row`` minus the baseline row's shown value (None without baseline / values)."""
        if self.baseline is None or row.name == self.baseline:
            return None
        mine, base = _shown(row.values.get(column)), _shown(self.row(self.baseline).values.get(column))
        if mine is None or base is None:
            return None
        return round(mine - base, 1)

    def consistency_issues(self) -> list[Inconsistency]:
        """Rows whose Overall is not the unweighted mean of their present task columns.

        Published rows are checked to :data:`REFERENCE_TOLERANCE` (their cells are rounded), run rows to
        :data:`RUN_TOLERANCE`.

        Example:
            >>> row = Row("x", {**{c: 40.0 for c in TASK_COLUMNS}, "overall": 41.8}, kind="reference")
            >>> [str(i) for i in Leaderboard([row]).consistency_issues()]
            ['x: Overall 41.8 is not the mean of its 8 task columns (40.00)']
        """
        issues = []
        for r in self.rows:
            overall = r.values.get("overall")
            tasks = [r.values[c] for c in TASK_COLUMNS if r.values.get(c) is not None]
            if overall is None or not tasks:
                continue
            mean = sum(tasks) / len(tasks)
            tolerance = REFERENCE_TOLERANCE if r.kind == "reference" else RUN_TOLERANCE
            if abs(overall - mean) > tolerance + 1e-9:
                issues.append(Inconsistency(r.name, overall, mean, len(tasks)))
        return issues

    # ---- cells -------------------------------------------------------------------------------------------
    def cell_text(self, row: Row, column: str) -> str:
        """Plain cell text: the value, plus ``(+Δ)`` against the baseline when one is set."""
        text = fmt(row.values.get(column))
        d = self.delta(row, column)
        return text if d is None else f"{text} ({d:+.1f})"

    def row_label(self, row: Row) -> str:
        """Row name, marked when it is the baseline."""
        return f"{row.name} [baseline]" if row.name == self.baseline else row.name

    # ---- renderers ---------------------------------------------------------------------------------------
    def to_markdown(self) -> str:
        """GitHub Markdown table (tabulate); best values in bold.

        Example:
            >>> lb = Leaderboard([Row("a", {"overall": 0.5}), Row("b", {"overall": 0.25})])
            >>> [line.split("|")[-2].strip() for line in lb.to_markdown().splitlines()[2:]]
            ['**0.5**', '0.2']
        """
        from tabulate import tabulate

        best = {c: self.best(c) for c in COLUMNS}
        body = []
        for r in self.rows:
            cells = [self.row_label(r)]
            for c in COLUMNS:
                text = self.cell_text(r, c)
                cells.append(f"**{text}**" if r.name in best[c] else text)
            body.append(cells)
        headers = ["Model"] + [LABELS[c] for c in COLUMNS]
        return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)

    def ci_markdown(self) -> str:
        """Markdown table of the 95% bootstrap intervals of the rows that have them ('' when none do)."""
        from tabulate import tabulate

        rows = [r for r in self.rows if r.ci]
        if not rows:
            return ""
        body = []
        for r in rows:
            cells = [r.name]
            for c in COLUMNS:
                lo_hi = r.ci.get(c)
                cells.append(MISSING if lo_hi is None else f"{fmt(r.values.get(c))} [{lo_hi[0]:.1f}, {lo_hi[1]:.1f}]")
            body.append(cells)
        headers = ["95% bootstrap CI"] + [LABELS[c] for c in COLUMNS]
        return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)

    def to_latex(self) -> str:
        r"""LaTeX ``tabular`` (booktabs); best values in ``\textbf``; reference and run rows separated by a rule.

        Example:
            >>> print(Leaderboard([Row("Spatial-R1 & co_1", {"overall": 41.8})]).to_latex().splitlines()[5])
            Spatial-R1 \& co\_1 & - & - & - & - & - & - & - & - & 41.8 \\
        """
        best = {c: self.best(c) for c in COLUMNS}
        lines = [
            "% generated by spatial-r1 leaderboard",
            "\\begin{tabular}{l" + "r" * len(COLUMNS) + "}",
            "\\toprule",
            "Model & " + " & ".join(LABELS[c] for c in COLUMNS) + " \\\\",
            "\\midrule",
        ]
        previous_kind = None
        for r in self.rows:
            if previous_kind is not None and r.kind != previous_kind:
                lines.append("\\midrule")
            previous_kind = r.kind
            cells = [latex_escape(self.row_label(r))]
            for c in COLUMNS:
                text = latex_escape(self.cell_text(r, c))
                cells.append(f"\\textbf{{{text}}}" if r.name in best[c] else text)
            lines.append(" & ".join(cells) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        return "\n".join(lines)

    def to_csv(self) -> str:
        """CSV: ``model, kind``, the nine columns (0-100, one decimal, empty when missing), then
        ``<column>_delta`` columns with a baseline and ``<column>_ci_low/_ci_high`` columns with intervals.

        Example:
            >>> print(Leaderboard([Row("a", {"overall": 41.75})]).to_csv().splitlines()[1])
            a,run,,,,,,,,,41.8
        """
        has_ci = any(r.ci for r in self.rows)
        header = ["model", "kind", *COLUMNS]
        if self.baseline is not None:
            header += [f"{c}_delta" for c in COLUMNS]
        if has_ci:
            header += [f"{c}_ci_{side}" for c in COLUMNS for side in ("low", "high")]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for r in self.rows:
            line = [r.name, r.kind] + [_csv_value(r.values.get(c)) for c in COLUMNS]
            if self.baseline is not None:
                line += [_csv_value(self.delta(r, c)) for c in COLUMNS]
            if has_ci:
                for c in COLUMNS:
                    lo_hi = r.ci.get(c)
                    line += ["", ""] if lo_hi is None else [f"{lo_hi[0]:.1f}", f"{lo_hi[1]:.1f}"]
            writer.writerow(line)
        return out.getvalue()

    def render(self, fmt_name: str) -> str:
        """Render in ``md``, ``latex`` or ``csv``."""
        if fmt_name == "md":
            text = self.to_markdown()
            ci = self.ci_markdown()
            return text + ("\n\n" + ci if ci else "")
        if fmt_name == "latex":
            return self.to_latex()
        if fmt_name == "csv":
            return self.to_csv().rstrip("\n")
        raise ValueError(f"unknown format {fmt_name!r}; choose one of: {', '.join(FORMATS)}")


def _csv_value(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "†": r"$^\dagger$",
}


def latex_escape(text: str) -> str:
    r"""Escape LaTeX special characters (and typeset the paper's † marker).

    Example:
        >>> latex_escape("†Gemini_1.5 & 50%")
        '$^\\dagger$Gemini\\_1.5 \\& 50\\%'
    """
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def build_leaderboard(
    runs: Sequence[TaskRun] = (),
    *,
    reference: Sequence[tuple[str, dict[str, float | None]]] = (),
    baseline: str | None = None,
    ci: bool = False,
    n_boot: int = 2000,
    seed: int = 0,
) -> Leaderboard:
    """Reference rows (as published, 0-100) followed by one row per run (scores x100).

    Args:
        runs: lmms-eval task runs (``runs.read_runs``).
        reference: Published rows (``reference.load_reference``).
        baseline: Row name for the Δ columns.
        ci: Add 95% bootstrap intervals to run rows (needs their sample logs).
        n_boot: Bootstrap replicates.
        seed: Bootstrap seed (each row uses the same seed).

    Raises:
        ValueError: ``ci`` for a run without a samples log, a duplicate row name, or an unknown baseline.
    """
    rows = [Row(name, dict(values), kind="reference", group=VSIBENCH_FINGERPRINT) for name, values in reference]
    reference_names = {r.name for r in rows}
    for run in runs:
        name = run.name if run.name not in reference_names else f"{run.name} [run]"
        values = {c: (None if run.scores.get(c) is None else 100.0 * run.scores[c]) for c in COLUMNS}
        protocol = read_protocol(run.results_path, run.task)
        group = protocol.fingerprint or f"{run.task} (no sample log, limit {protocol.limit})"
        row = Row(name, values, kind="run", run=run, group=group, protocol=protocol)
        if ci:
            if run.samples is None:
                raise ValueError(
                    f"{run.results_path}: --ci needs the per-question log {run.date_id}_samples_{run.task}.jsonl "
                    "(re-run lmms-eval with --log_samples)"
                )
            from spatial_r1_eval.leaderboard.stats import bootstrap_ci

            intervals = bootstrap_ci(run.samples.question_types, run.samples.scores, n_boot=n_boot, seed=seed)
            row.ci = {c: (100.0 * iv.low, 100.0 * iv.high) for c, iv in intervals.items()}
        rows.append(row)
    return Leaderboard(rows, baseline=baseline)
