"""Figures a check can attach to its result, drawn as standalone SVG (no plotting library: the grader stays fast to
start, and the same data always gives the same bytes).

A trajectory figure has two panels: the loss against the step for each series (log scale when every loss is
positive), and, for 2-D problems, the path of each series in the plane, over the level sets of the quadratic
0.5 x^T A x - b^T x when the check gives A and b. A curves figure is one panel of y against x per series (iterations
against condition number, say). A scatter figure is one panel of 2-D points, a colour per series (latent means by
class). A density figure draws a density on a grid as a heatmap with the first set of points (and any paths: a sampler's
trajectories) over it, beside a panel of every set of points over the same square (a flow's learned density, the data
and its samples).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence
from xml.sax.saxutils import escape

import numpy as np

if TYPE_CHECKING:
    from ..engine.results import Report

__all__ = ["trajectory", "curves", "scatter", "density", "render_svg", "write_figures"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")  # the first series is the reference
_DASHES = ("", "6,3", "2,2", "8,2,2,2", "4,1,1,1", "1,3")
_W, _H, _PAD = 430, 300, 56
_LEGEND_ROW = 16  # px between legend rows


def trajectory(*, title: str, series: dict[str, Sequence[Sequence[float]]], losses: dict[str, Sequence[float]], quadratic: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """A trajectory figure as plain data (it travels in reports): ``series`` label -> points (steps, d), ``losses``
    label -> one loss per point; ``quadratic`` = (A, b) draws the level sets of 0.5 x^T A x - b^T x behind 2-D paths."""
    figure: dict[str, Any] = {
        "kind": "trajectory",
        "title": title,
        "series": {k: np.asarray(v, dtype=float).tolist() for k, v in series.items()},
        "losses": {k: np.asarray(v, dtype=float).tolist() for k, v in losses.items()},
    }
    if quadratic is not None:
        figure["quadratic"] = [np.asarray(quadratic[0], dtype=float).tolist(), np.asarray(quadratic[1], dtype=float).tolist()]
    return figure


def curves(*, title: str, x_label: str, y_label: str, series: dict[str, tuple[Sequence[float], Sequence[float]]]) -> dict[str, Any]:
    """A curves figure as plain data: ``series`` label -> (xs, ys), drawn on log scales where all values are positive."""
    return {
        "kind": "curves",
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "series": {k: [np.asarray(xs, dtype=float).tolist(), np.asarray(ys, dtype=float).tolist()] for k, (xs, ys) in series.items()},
    }


def scatter(*, title: str, series: dict[str, Sequence[Sequence[float]]], x_label: str = "", y_label: str = "") -> dict[str, Any]:
    """A scatter figure as plain data: ``series`` label -> points of shape (n, 2)."""
    return {"kind": "scatter", "title": title, "x_label": x_label, "y_label": y_label, "series": {k: _points(v) for k, v in series.items()}}


def density(*, title: str, extent: Sequence[float], values: Any, points: dict[str, Sequence[Sequence[float]]], paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """A density figure as plain data: ``values`` (ny, nx) on the grid over ``extent`` = (x_lo, x_hi, y_lo, y_hi),
    row 0 at y_lo; ``points`` label -> points of shape (n, 2); ``paths`` label -> paths of shape (n_paths, steps, 2),
    drawn as lines over the heatmap (a sampler's trajectories)."""
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2 or len(extent) != 4:
        raise ValueError(f"density: values must be 2-D and extent (x_lo, x_hi, y_lo, y_hi), got shape {grid.shape} and {len(extent)} numbers")
    lines = {k: np.asarray(v, dtype=float) for k, v in (paths or {}).items()}
    for label, line in lines.items():
        if line.ndim != 3 or line.shape[2] != 2:
            raise ValueError(f"density: paths[{label!r}] must have shape (n_paths, steps, 2), got {line.shape}")
    figure = {"kind": "density", "title": title, "extent": [float(e) for e in extent], "values": grid.tolist(), "points": {k: _points(v) for k, v in points.items()}}
    return figure | ({"paths": {k: v.tolist() for k, v in lines.items()}} if lines else {})


def _points(values: Sequence[Sequence[float]]) -> list[list[float]]:
    points = np.asarray(values, dtype=float).reshape(-1, 2) if np.size(values) else np.zeros((0, 2))
    return points.tolist()


def render_svg(figure: dict[str, Any], *, ids: str = "") -> str:
    """The figure as an SVG document; ``ids`` prefixes its element ids (several figures inline in one HTML page)."""
    kind = figure.get("kind")
    if kind not in ("trajectory", "curves", "scatter", "density"):
        raise ValueError(f"unknown figure kind {kind!r}")
    if kind in ("scatter", "density"):
        return _render_points(figure, ids)
    series = {k: np.asarray(v, dtype=float) for k, v in figure["series"].items()}
    planar = figure["kind"] == "trajectory" and all(v.ndim == 2 and v.shape[1] == 2 for v in series.values()) and bool(series)
    width = 2 * _W if planar else _W
    if figure["kind"] == "curves":
        return _document(figure["title"], width, _curves_panel(figure["series"], figure["x_label"], figure["y_label"]), list(figure["series"]))
    body = _loss_panel({k: np.asarray(v, dtype=float) for k, v in figure["losses"].items()}, x0=0)
    if planar:
        body += _path_panel(series, figure.get("quadratic"), x0=_W, clip=f"{ids}panel")
    return _document(figure["title"], width, body, list(figure["losses"] or figure["series"]))


def _document(title: str, width: float, body: list[str], labels: list[str], dots: int = 0) -> str:
    """The SVG document: a white background, the title (smaller type where a long one would not fit), the panels and
    the legend, which wraps onto more rows (the figure grows) rather than running off the edge; its first ``dots``
    labels are point sets (a dot in the legend), the others lines."""
    legend, rows = _legend(labels, width, dots)
    height = _H + 40 + _LEGEND_ROW * (rows - 1)
    size = max(8.0, min(13.0, (width - 16) / (0.56 * max(len(title), 1))))  # a glyph is ~0.56 em wide on average
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="{size:.1f}">{escape(title)}</text>',
    ]
    return "\n".join(head + body + legend + ["</svg>"]) + "\n"


def _render_points(figure: dict[str, Any], ids: str) -> str:
    points = {k: np.asarray(v, dtype=float).reshape(-1, 2) for k, v in figure["series" if figure["kind"] == "scatter" else "points"].items()}
    width = _W if figure["kind"] == "scatter" else 2 * _W
    if figure["kind"] == "scatter":
        return _document(figure["title"], width, _points_panel(points, _square(points), 0, figure["x_label"] or "x[0]", figure["y_label"] or "x[1]"), list(points), dots=len(points))
    x_lo, x_hi, y_lo, y_hi = figure["extent"]
    square = (np.array([x_lo, y_lo]), np.array([x_hi, y_hi]))
    first = dict(list(points.items())[:1])
    paths = {k: np.asarray(v, dtype=float) for k, v in figure.get("paths", {}).items()}
    body = _heatmap(np.asarray(figure["values"], dtype=float), square, x0=0)
    body += _points_panel(first, square, 0, "x[0]", "x[1]", frame=False)
    body += _paths_over(paths, square, len(points), f"{ids}heat")
    body += _points_panel(points, square, _W, "x[0]", "x[1]")
    return _document(figure["title"], width, body, [*points, *paths], dots=len(points))  # the paths' labels after the point sets'


def _square(points: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The smallest square around every finite point, with a margin: one scale for both axes."""
    every = np.concatenate([p[np.isfinite(p).all(axis=1)] for p in points.values()] + [np.zeros((0, 2))])
    if not every.size:
        return np.array([-1.0, -1.0]), np.array([1.0, 1.0])
    lo, hi = every.min(axis=0), every.max(axis=0)
    side, centre = 1.1 * float(max(hi - lo)) or 1.0, (lo + hi) / 2
    return centre - side / 2, centre + side / 2


def _points_panel(points: dict[str, np.ndarray], square: tuple[np.ndarray, np.ndarray], x0: float, x_label: str, y_label: str, frame: bool = True) -> list[str]:
    lo, hi = square
    x_of = _scale(lo[0], hi[0], x0 + _PAD, x0 + _W - 12)
    y_of = _scale(lo[1], hi[1], _H - 10, 30)
    parts = _axes(x0, x_label, y_label, (lo[0], hi[0]), (lo[1], hi[1]), False) if frame else []
    for i, (_, xy) in enumerate(points.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        inside = xy[np.isfinite(xy).all(axis=1) & (xy >= lo).all(axis=1) & (xy <= hi).all(axis=1)]
        parts += [f'<circle cx="{x_of(x):.2f}" cy="{y_of(y):.2f}" r="2" fill="{colour}" fill-opacity="0.7"/>' for x, y in inside]
    return parts


def _paths_over(paths: dict[str, np.ndarray], square: tuple[np.ndarray, np.ndarray], first_colour: int, clip: str) -> list[str]:
    """Each path as a thin line in the left panel, clipped to it; the colours continue after the point sets'."""
    if not paths:
        return []
    lo, hi = square
    x_of = _scale(lo[0], hi[0], _PAD, _W - 12)
    y_of = _scale(lo[1], hi[1], _H - 10, 30)
    parts = [f'<clipPath id="{clip}"><rect x="{_PAD}" y="30" width="{_W - 12 - _PAD}" height="{_H - 40}"/></clipPath>']
    for i, lines in enumerate(paths.values()):
        colour = _COLOURS[(first_colour + i) % len(_COLOURS)]
        for line in lines:
            coords = " ".join(f"{x_of(x):.2f},{y_of(y):.2f}" for x, y in _finite_prefix(line))
            if coords:
                parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1" stroke-opacity="0.8" clip-path="url(#{clip})"/>')
    return parts


def _heatmap(values: np.ndarray, square: tuple[np.ndarray, np.ndarray], x0: float) -> list[str]:
    """One rectangle per grid cell, white (0) to dark blue (the maximum); non-finite cells are left white."""
    ny, nx = values.shape
    finite = np.where(np.isfinite(values), values, 0.0)
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    left, right, upper, lower = x0 + _PAD, x0 + _W - 12, 30, _H - 10
    w, h = (right - left) / max(nx, 1), (lower - upper) / max(ny, 1)
    parts = []
    for j in range(ny):
        for i in range(nx):
            level = min(max(finite[j, i] / top, 0.0), 1.0)
            if level > 0.01:
                shade = f"rgb({int(255 - 225 * level)},{int(255 - 165 * level)},{int(255 - 75 * level)})"
                parts.append(f'<rect x="{left + i * w:.2f}" y="{lower - (j + 1) * h:.2f}" width="{w + 0.3:.2f}" height="{h + 0.3:.2f}" fill="{shade}"/>')
    return parts + _axes(x0, "x[0]", "x[1]", (square[0][0], square[1][0]), (square[0][1], square[1][1]), False)


def write_figures(report: Report, folder: Path) -> int:
    """Draw every figure of ``report`` into ``folder`` as <topic>.<check>[-n].svg, record each file in its figure
    (reports then link to it), and return how many were drawn."""
    from .output import write_atomically

    drawn = 0
    for topic in report.topics:
        for check in topic.checks:
            for i, figure in enumerate(check.figures, start=1):
                path = folder / (f"{topic.id}.{check.id}" + (f"-{i}" if len(check.figures) > 1 else "") + ".svg")
                write_atomically(path, render_svg(figure))
                figure["file"] = str(path)
                drawn += 1
    return drawn


def _finite_prefix(values: np.ndarray) -> np.ndarray:
    """The points before the first non-finite one (a diverging run is drawn up to where it left the plot)."""
    bad = ~np.isfinite(values).reshape(len(values), -1).all(axis=1)
    return values[: int(np.argmax(bad)) if bad.any() else len(values)]


def _polyline(points: list[tuple[float, float]], index: int, marker: bool = False) -> list[str]:
    if not points:
        return []
    colour, dash = _COLOURS[index % len(_COLOURS)], _DASHES[index % len(_DASHES)]
    coords = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    out = [f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.6"{dashed}/>']
    if marker:
        out += [f'<circle cx="{x:.2f}" cy="{y:.2f}" r="2" fill="{colour}"/>' for x, y in points]
    return out


def _axes(x0: float, label_x: str, label_y: str, x_range: tuple[float, float], y_range: tuple[float, float], y_log: bool) -> list[str]:
    left, top, right, bottom = x0 + _PAD, 30, x0 + _W - 12, _H - 10
    fmt = (lambda v: f"1e{v:.0f}" if float(v).is_integer() else f"{10 ** v:.2g}") if y_log else (lambda v: f"{v:.3g}")
    return [
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="#888"/>',
        f'<text x="{(left + right) / 2}" y="{bottom + 26}" text-anchor="middle">{escape(label_x)}</text>',
        f'<text x="{x0 + 12}" y="{(top + bottom) / 2}" text-anchor="middle" transform="rotate(-90 {x0 + 12} {(top + bottom) / 2})">{escape(label_y)}</text>',
        f'<text x="{left}" y="{bottom + 12}" text-anchor="middle">{x_range[0]:.3g}</text>',
        f'<text x="{right}" y="{bottom + 12}" text-anchor="end">{x_range[1]:.3g}</text>',
        f'<text x="{left - 3}" y="{bottom}" text-anchor="end">{fmt(y_range[0])}</text>',
        f'<text x="{left - 3}" y="{top + 8}" text-anchor="end">{fmt(y_range[1])}</text>',
    ]


def _scale(lo: float, hi: float, a: float, b: float):  # type: ignore[no-untyped-def]
    span = hi - lo if hi > lo else 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _loss_panel(losses: dict[str, np.ndarray], x0: float) -> list[str]:
    curves = {k: _finite_prefix(v) for k, v in losses.items()}
    values = np.concatenate([c for c in curves.values() if c.size] or [np.zeros(1)])
    y_log = bool(values.size and (values > 0).all())
    ys = np.log10(values) if y_log else values
    steps = max((len(v) for v in losses.values()), default=1) - 1
    x_of = _scale(0, max(steps, 1), x0 + _PAD, x0 + _W - 12)
    y_lo, y_hi = float(ys.min()), float(ys.max())
    y_of = _scale(y_lo, y_hi, _H - 10, 30)
    parts = _axes(x0, "step", "loss (log scale)" if y_log else "loss", (0, steps), (y_lo, y_hi), y_log)
    for i, curve in enumerate(curves.values()):
        vals = np.log10(curve) if y_log else curve
        parts += _polyline([(x_of(s), y_of(float(v))) for s, v in enumerate(vals)], i)
    return parts


def _curves_panel(series: dict[str, list[list[float]]], x_label: str, y_label: str) -> list[str]:
    pairs = {}
    for label, (xs, ys) in series.items():
        xy = np.stack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)], axis=1) if len(xs) else np.zeros((0, 2))
        pairs[label] = xy[np.isfinite(xy).all(axis=1)]
    points = np.concatenate([p for p in pairs.values() if p.size] or [np.ones((1, 2))])
    logs = [bool((points[:, i] > 0).all()) for i in (0, 1)]
    shown = {k: np.where(logs, np.log10(np.where(v > 0, v, 1.0)), v) for k, v in pairs.items()}
    everything = np.concatenate([p for p in shown.values() if p.size] or [np.zeros((1, 2))])
    lo, hi = everything.min(axis=0), everything.max(axis=0)
    x_of = _scale(lo[0], hi[0], _PAD, _W - 12)
    y_of = _scale(lo[1], hi[1], _H - 10, 30)
    parts = _axes(0, x_label + (" (log scale)" if logs[0] else ""), y_label + (" (log scale)" if logs[1] else ""), (10 ** lo[0], 10 ** hi[0]) if logs[0] else (lo[0], hi[0]), (lo[1], hi[1]), logs[1])
    for i, xy in enumerate(shown.values()):
        parts += _polyline([(x_of(x), y_of(y)) for x, y in xy], i, marker=True)
    return parts


def _level_sets(quadratic: list[Any], points: np.ndarray) -> list[np.ndarray]:
    """Ellipses of 0.5 x^T A x - b^T x through a few quantiles of the loss along the paths."""
    A, b = np.asarray(quadratic[0]), np.asarray(quadratic[1])
    eigvals, eigvecs = np.linalg.eigh(A)
    if eigvals.min() <= 0:
        return []
    centre = np.linalg.solve(A, b)
    heights = np.einsum("ni,ij,nj->n", points - centre, A, points - centre)  # 2 (f(x) - f*)
    angles = np.linspace(0, 2 * math.pi, 73)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    levels = sorted({float(q) for q in np.quantile(heights[heights > 0], [0.05, 0.25, 0.5, 0.75, 1.0])} if (heights > 0).any() else set())
    return [centre + (circle * np.sqrt(level / eigvals)) @ eigvecs.T for level in levels]


def _path_panel(series: dict[str, np.ndarray], quadratic: list[Any] | None, x0: float, clip: str) -> list[str]:
    paths = {k: _finite_prefix(v) for k, v in series.items()}
    points = np.concatenate([p for p in paths.values() if p.size] or [np.zeros((1, 2))])
    lo, hi = points.min(axis=0), points.max(axis=0)
    side = 1.15 * float(max(hi - lo)) or 1.0  # one scale for both axes: level sets keep their shape
    centre = (lo + hi) / 2
    lo, hi = centre - side / 2, centre + side / 2
    x_of = _scale(lo[0], hi[0], x0 + _PAD, x0 + _W - 12)
    y_of = _scale(lo[1], hi[1], _H - 10, 30)
    parts = _axes(x0, "x[0]", "x[1]", (lo[0], hi[0]), (lo[1], hi[1]), False)
    # Level sets are clipped to the panel: the paths, not the largest ellipse, set the scale.
    parts.append(f'<clipPath id="{clip}"><rect x="{x0 + _PAD}" y="30" width="{_W - 12 - _PAD}" height="{_H - 40}"/></clipPath>')
    for ellipse in _level_sets(quadratic, points) if quadratic is not None else []:
        coords = " ".join(f"{x_of(x):.2f},{y_of(y):.2f}" for x, y in ellipse)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#ccc" stroke-width="1" clip-path="url(#{clip})"/>')
    for i, path in enumerate(paths.values()):
        parts += _polyline([(x_of(x), y_of(y)) for x, y in path], i, marker=True)
    return parts


def _legend(labels: list[str], width: float, dots: int = 0) -> tuple[list[str], int]:
    """The legend's elements, left to right, wrapping onto a new row where the next would pass the right edge; and
    how many rows it took."""
    parts, x, row = [], 12.0, 0
    for i, label in enumerate(labels):
        size = 40 + 7 * len(label)
        if x > 12.0 and x + size - 10 > width:
            x, row = 12.0, row + 1
        y = _H + 28 + _LEGEND_ROW * row
        colour, dash = _COLOURS[i % len(_COLOURS)], _DASHES[i % len(_DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        if i < dots:
            parts.append(f'<circle cx="{x + 12}" cy="{y}" r="3" fill="{colour}" fill-opacity="0.7"/>')
        else:
            parts.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{colour}" stroke-width="2"{dashed}/>')
        parts.append(f'<text x="{x + 30}" y="{y + 4}">{escape(label)}</text>')
        x += size
    return parts, row + 1
