"""A self-contained static HTML leaderboard page: sortable table + bar chart, no network access needed.

Everything is inline (CSS, a few lines of vanilla JavaScript for sorting, the chart as an inline SVG), so the
file can be mailed, archived or opened from disk. Without JavaScript the table still reads in its original
order. The page has no timestamps: same inputs, same bytes.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path

from spatial_r1_eval.files import atomic_open
from spatial_r1_eval.leaderboard.stats import PairedComparison
from spatial_r1_eval.leaderboard.table import COLUMNS, LABELS, Leaderboard, Row, fmt

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#1b1b1b}
h1{font-size:1.4em;margin:0 0 4px}h2{font-size:1.1em;margin:24px 0 8px}
p.sub{color:#555;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
th{background:#f4f6f8;cursor:pointer;user-select:none;position:sticky;top:0;white-space:normal;max-width:96px;
vertical-align:bottom}
div.scroll{overflow-x:auto}
th:hover{background:#e8edf2}
th.sorted-desc::after{content:" \\25BC";font-size:10px}th.sorted-asc::after{content:" \\25B2";font-size:10px}
tr.run td{background:#f3f9ff}tr.reference td:first-child{color:#333}
td.best{font-weight:700;background:#fff4cc !important}
span.delta{font-size:11px;margin-left:3px}span.pos{color:#11803b}span.neg{color:#b3261e}
span.ci{display:block;font-size:10px;color:#777}
ul.notes li{margin:2px 0}.chart svg{max-width:100%;height:auto}
td.missing{color:#aaa}
"""
#: The page style, shared with the ``spatial-r1 audit`` page (one look for every page the toolkit writes).
PAGE_CSS = _CSS

_JS = """
(function(){
  var table=document.getElementById("leaderboard");
  var heads=table.tHead.rows[0].cells;
  function key(cell,numeric){
    if(!numeric){return cell.textContent.toLowerCase();}
    var v=cell.getAttribute("data-value");
    return v===null||v===""?null:parseFloat(v);
  }
  function sortBy(col,desc){
    for(var k=0;k<heads.length;k++){heads[k].classList.remove("sorted-desc","sorted-asc");}
    heads[col].classList.add(desc?"sorted-desc":"sorted-asc");
    var numeric=col>0, body=table.tBodies[0];
    var rows=Array.prototype.slice.call(body.rows);
    rows.sort(function(a,b){
      var x=key(a.cells[col],numeric), y=key(b.cells[col],numeric);
      if(x===y){return 0;} if(x===null){return 1;} if(y===null){return -1;}
      return (x<y?-1:1)*(desc?-1:1);
    });
    rows.forEach(function(r){body.appendChild(r);});
  }
  for(var i=0;i<heads.length;i++){(function(col){
    heads[col].addEventListener("click",function(){sortBy(col,!heads[col].classList.contains("sorted-desc"));});
  })(i);}
  var m=window.location.hash.match(/^#sort=(\\d+)(-asc)?$/);
  if(m&&+m[1]<heads.length){sortBy(+m[1],!m[2]);}
})();
"""


def _cell(board: Leaderboard, row: Row, column: str, best: set[str]) -> str:
    value = row.values.get(column)
    classes = []
    if value is None:
        classes.append("missing")
    if row.name in best:
        classes.append("best")
    attr = f' class="{" ".join(classes)}"' if classes else ""
    data = "" if value is None else f"{value:.6f}"
    inner = html.escape(fmt(value))
    d = board.delta(row, column)
    if d is not None:
        sign = "pos" if d > 0 else "neg" if d < 0 else ""
        inner += f'<span class="delta {sign}">({d:+.1f})</span>'
    lo_hi = row.ci.get(column)
    if lo_hi is not None:
        inner += f'<span class="ci">[{lo_hi[0]:.1f}, {lo_hi[1]:.1f}]</span>'
    return f'<td data-value="{data}"{attr}>{inner}</td>'


def render_html(
    board: Leaderboard,
    *,
    title: str = "Spatial reasoning leaderboard (VSI-Bench tasks)",
    chart_rows: Sequence[Row] | None = None,
    comparisons: Sequence[tuple[str, str, dict[str, PairedComparison]]] = (),
) -> str:
    """The whole page as one string.

    Clicking a header sorts by that column (again: reverse); ``page.html#sort=9`` opens it sorted by column 9
    (Overall) descending, ``#sort=9-asc`` ascending.

    Args:
        board: The table.
        title: Page heading.
        chart_rows: Rows drawn in the chart (default: ``plots.plot_rows(board)``); empty -> no chart.
        comparisons: ``(name_a, name_b, paired_bootstrap result)`` blocks to list under the table.
    """
    from spatial_r1_eval.leaderboard.plots import bar_chart_svg, plot_rows

    best = {c: board.best(c) for c in COLUMNS}
    head = "".join(f"<th>{html.escape(LABELS[c])}</th>" for c in COLUMNS)
    body = []
    for r in board.rows:
        cells = "".join(_cell(board, r, c, best[c]) for c in COLUMNS)
        hover = r.protocol.footnote() if r.protocol is not None else ""
        if not hover and r.kind == "reference":
            hover = "published row (full VSI-Bench test set)"
        title = f' title="{html.escape(hover, quote=True)}"' if hover else ""
        label = f"<td{title}>{html.escape(board.row_label(r))}</td>"
        body.append(f'<tr class="{r.kind}">{label}{cells}</tr>')
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<p class="sub">Scores &times;100. Bold: best per column. Click a header to sort. '
        + ("Blue rows: your lmms-eval runs. " if any(r.kind == "run" for r in board.rows) else "")
        + (f"(&plusmn;&Delta;) vs baseline <b>{html.escape(board.baseline)}</b>. " if board.baseline else "")
        + ("Small brackets: 95% bootstrap CI." if any(r.ci for r in board.rows) else "")
        + "</p>",
        f'<div class="scroll"><table id="leaderboard"><thead><tr><th>Model</th>{head}</tr></thead>',
        "<tbody>" + "\n".join(body) + "</tbody></table></div>",
    ]
    issues = board.consistency_issues()
    if issues:
        parts.append('<h2>Consistency check</h2><ul class="notes">')
        parts += [f"<li>{html.escape(str(i))}</li>" for i in issues]
        parts.append("</ul>")
    for name_a, name_b, result in comparisons:
        parts.append(f"<h2>Paired bootstrap: {html.escape(name_b)} vs {html.escape(name_a)}</h2>")
        parts.append(
            "<table><thead><tr><th>Column</th><th>&Delta;</th><th>95% CI</th><th>p</th><th>n</th></tr></thead><tbody>"
        )
        for c in COLUMNS:
            if c in result:
                r = result[c]
                parts.append(
                    f"<tr><td>{html.escape(LABELS[c])}</td><td>{100 * r.delta:+.1f}</td>"
                    f"<td>[{100 * r.low:+.1f}, {100 * r.high:+.1f}]</td><td>{r.p_value:.4f}</td><td>{r.n}</td></tr>"
                )
        parts.append("</tbody></table>")
    rows_for_chart = plot_rows(board) if chart_rows is None else list(chart_rows)
    if rows_for_chart:
        parts.append('<h2>Per-task scores</h2><div class="chart">' + bar_chart_svg(rows_for_chart) + "</div>")
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"


def write_html(board: Leaderboard, path: str | os.PathLike[str], **kwargs) -> Path:
    """Write :func:`render_html` to ``path`` atomically; returns the path."""
    path = Path(path)
    text = render_html(board, **kwargs)
    with atomic_open(path) as f:
        f.write(text)
    return path
