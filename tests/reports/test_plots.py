"""Figures: valid, deterministic SVG from a check's data, drawn next to the report and linked from it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from autograder import run
from autograder.reports.plots import curves, density, render_svg, scatter, trajectory

from conftest import ROOT

TOY = ROOT / "tests" / "toy_course"
SVG = "{http://www.w3.org/2000/svg}"
A, B = np.array([[10.0, 2.0], [2.0, 1.0]]), np.array([1.0, 0.0])


def gd(lr: float, steps: int = 12) -> np.ndarray:
    x, xs = np.array([1.0, 1.0]), []
    for _ in range(steps + 1):
        xs.append(x)
        x = x - lr * (A @ x - B)
    return np.array(xs)


def loss(xs: np.ndarray) -> np.ndarray:
    return 0.5 * np.einsum("ni,ij,nj->n", xs, A, xs) - xs @ B + 1.0


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


@pytest.mark.parametrize("quadratic, planar, level_sets", [
    pytest.param((A, B), True, 5, id="path-over-level-sets"),
    pytest.param(None, True, 0, id="path-without-level-sets"),
])
def test_a_trajectory_figure_is_a_valid_svg(quadratic, planar, level_sets):
    reference, yours = gd(0.09), gd(0.12)
    figure = trajectory(title="GD <quadratic>", series={"reference": reference, "yours": yours}, losses={"reference": loss(reference), "yours": loss(yours)}, quadratic=quadratic)
    root = parse(render_svg(figure))
    assert root.find(f"{SVG}title").text == "GD <quadratic>"
    lines = root.findall(f"{SVG}polyline")
    clipped = [p for p in lines if p.get("clip-path")]
    assert len(clipped) == level_sets
    assert len(lines) - len(clipped) == 4  # two series, in the loss panel and in the plane
    assert {t.text for t in root.iter(f"{SVG}text")} >= {"reference", "yours", "step", "loss (log scale)"}


def test_a_diverging_series_is_drawn_until_it_leaves_the_finite_numbers():
    with np.errstate(all="ignore"):
        yours = gd(1.0, steps=400)  # lr > 2/L: overflows to inf, then nan
        assert not np.isfinite(yours).all()
        figure = trajectory(title="diverges", series={"reference": gd(0.09), "yours": yours}, losses={"reference": loss(gd(0.09)), "yours": loss(yours)})
    svg = render_svg(figure)
    parse(svg)
    assert "nan" not in svg and "inf" not in svg


def test_figures_are_plain_data_and_drawn_deterministically():
    figure = trajectory(title="t", series={"reference": gd(0.09)}, losses={"reference": loss(gd(0.09))}, quadratic=(A, B))
    assert json.loads(json.dumps(figure)) == figure
    assert render_svg(figure) == render_svg(json.loads(json.dumps(figure)))


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown figure kind 'pie'"):
        render_svg({"kind": "pie"})


def test_grade_run_draws_figures_beside_the_report_and_links_them(tmp_path: Path, capsys):
    output = tmp_path / "report.json"
    run.main(path=TOY / "solutions" / "toy.py", topics=(), device="cpu", formats=(("json", None),), output=output, sandbox="auto", course=TOY / "course.yaml", public_only=False)
    drawn = tmp_path / "report-figures" / "toy.scale.svg"
    parse(drawn.read_text())
    checks = {c["id"]: c for c in json.loads(output.read_text())["topics"][0]["checks"]}
    assert checks["scale"]["figures"][0]["file"] == str(drawn)
    assert f"figure of scale:\n    {drawn}\n" in capsys.readouterr().out  # wrapped before the path, never inside it


def test_without_a_folder_the_text_report_says_how_to_draw_them(capsys):
    run.main(path=TOY / "solutions" / "toy.py", topics=(), device="cpu", formats=(("text", None),), output=None, sandbox="auto", course=TOY / "course.yaml", public_only=False)
    assert "1 figure(s) of your results beside the reference's: add --figures DIR (or --format html) to see them" in " ".join(capsys.readouterr().out.split())


def test_a_curves_figure_draws_each_series_on_log_scales():
    kappas = [1, 10, 100, 1000]
    figure = curves(title="steps to 1e-8", x_label="condition number", y_label="steps", series={"GD": (kappas, [5, 80, 900, 9000]), "heavy ball": (kappas, [5, 30, 95, np.inf])})
    root = parse(render_svg(figure))
    lines = root.findall(f"{SVG}polyline")
    assert [len(p.get("points").split()) for p in lines] == [4, 3]  # the non-finite point is left out
    assert {t.text for t in root.iter(f"{SVG}text")} >= {"GD", "heavy ball", "condition number (log scale)", "steps (log scale)", "1e+03"}


def test_a_scatter_figure_draws_every_finite_point_a_colour_per_series():
    classes = {"class 0": RNG.standard_normal((5, 2)), "class 1": np.vstack([RNG.standard_normal((3, 2)), [[np.nan, 0.0]]])}
    figure = scatter(title="latent means", series=classes, x_label="z[0]", y_label="z[1]")
    assert render_svg(json.loads(json.dumps(figure))) == render_svg(figure)
    root = parse(render_svg(figure))
    dots = root.findall(f"{SVG}circle")
    assert len(dots) == 8 + 2 and len({d.get("fill") for d in dots}) == 2  # and a dot per series in the legend
    assert all(float(line.get("y1")) < 300 for line in root.findall(f"{SVG}line"))  # the legend draws no lines for points
    assert {t.text for t in root.iter(f"{SVG}text")} >= {"latent means", "class 0", "class 1", "z[0]", "z[1]"}


def test_a_density_figure_is_a_heatmap_under_the_data_beside_every_point_set():
    xs = np.linspace(-2, 2, 9)
    values = np.exp(-0.5 * (xs[:, None] ** 2 + xs[None, :] ** 2))
    data, samples = RNG.standard_normal((6, 2)) * 0.5, RNG.standard_normal((4, 2)) * 0.5
    figure = density(title="learned density", extent=(-2, 2, -2, 2), values=values, points={"data": data, "samples": samples})
    root = parse(render_svg(figure))
    cells = [r for r in root.findall(f"{SVG}rect") if r.get("fill", "").startswith("rgb(")]
    assert 0 < len(cells) <= 81
    darkest = min(cells, key=lambda r: int(r.get("fill")[4:].split(",")[0]))
    assert darkest.get("fill") == "rgb(30,90,180)"  # the maximum, at the centre of the grid
    assert len(root.findall(f"{SVG}circle")) == 6 + 6 + 4 + 2  # the data over the heatmap, then both sets, the legend's
    with pytest.raises(ValueError, match=r"values must be 2-D and extent \(x_lo, x_hi, y_lo, y_hi\), got shape \(9,\) and 4 numbers"):
        density(title="t", extent=(-2, 2, -2, 2), values=xs, points={})



def test_a_density_figure_draws_paths_over_the_heatmap_clipped_and_in_the_legend():
    xs = np.linspace(-2, 2, 5)
    values = np.exp(-0.5 * (xs[:, None] ** 2 + xs[None, :] ** 2))
    paths = np.stack([np.linspace([1.5, 1.5], [0.0, 0.0], 4), np.array([[-1.5, 1.0], [-1.0, 0.5], [9.0, 0.0], [np.nan, 0.0]])])
    figure = density(title="samples", extent=(-2, 2, -2, 2), values=values, points={"samples": RNG.standard_normal((3, 2))}, paths={"trajectories": paths})
    assert render_svg(json.loads(json.dumps(figure))) == render_svg(figure)
    root = parse(render_svg(figure, ids="f1-"))
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2 and {line.get("clip-path") for line in lines} == {"url(#f1-heat)"}
    assert len(lines[0].get("points").split()) == 4 and len(lines[1].get("points").split()) == 3  # up to the first non-finite point
    assert {t.text for t in root.iter(f"{SVG}text")} >= {"samples", "trajectories"}
    with pytest.raises(ValueError, match=r"paths\['p'\] must have shape \(n_paths, steps, 2\), got \(4, 2\)"):
        density(title="t", extent=(-2, 2, -2, 2), values=values, points={}, paths={"p": paths[0]})

RNG = np.random.default_rng(0)


def test_a_long_legend_wraps_and_the_figure_grows_and_a_long_title_gets_smaller_type():
    xs = np.arange(3.0)
    labels = [f"series number {i} with a long label" for i in range(5)]
    short = parse(render_svg(curves(title="short", x_label="x", y_label="y", series={labels[0]: (xs, xs)})))
    long = parse(render_svg(curves(title="a title far longer than the figure is wide " * 3, x_label="x", y_label="y", series={k: (xs, xs) for k in labels})))
    width = float(long.get("width"))
    legend = [t for t in long.iter(f"{SVG}text") if t.text in labels]
    rows = sorted({float(t.get("y")) for t in legend})
    assert len(rows) > 1 and all(float(t.get("x")) + 7 * len(t.text) <= width for t in legend)
    assert float(long.get("height")) == float(short.get("height")) + 16 * (len(rows) - 1)
    title_size = lambda root: float(next(t for t in root.iter(f"{SVG}text") if t.get("y") == "16").get("font-size"))  # noqa: E731
    assert title_size(short) == 13 and title_size(long) < 13
