"""The mutator: each kind makes the change it names, in place, and nothing else."""

from __future__ import annotations

import textwrap

import pytest

from autograder.selftest.mutation import KINDS, mutants, same_bytecode


def changed_lines(source: str, kind: str) -> set[str]:
    """The mutated line of each mutant of ``kind`` (single-line sources)."""
    return {m.source.strip().splitlines()[-1].strip() for m in mutants(source) if m.kind == kind}


def module(body: str) -> str:
    return f"def f(a: np.ndarray, b, x, n):\n    return {body}\n"


# (kind, expression, mutated expressions that must be among the mutants)
CASES = [
    pytest.param("arithmetic", "a + b", {"return a - b"}, id="add-to-sub"),
    pytest.param("arithmetic", "a - b", {"return a + b"}, id="sub-to-add"),
    pytest.param("arithmetic", "a * b", {"return a / b"}, id="mul-to-div"),
    pytest.param("arithmetic", "a / b", {"return a * b"}, id="div-to-mul"),
    pytest.param("arithmetic", "a // b", {"return a / b"}, id="floordiv-to-div"),
    pytest.param("arithmetic", "a ** b", {"return a * b"}, id="pow-to-mul"),
    pytest.param("arithmetic", "(a) * (b)", {"return (a) / (b)"}, id="operator-between-parentheses"),
    pytest.param("comparison", "a < b", {"return a <= b"}, id="lt"),
    pytest.param("comparison", "a <= b", {"return a < b"}, id="le"),
    pytest.param("comparison", "a > b", {"return a >= b"}, id="gt"),
    pytest.param("comparison", "a >= b", {"return a > b"}, id="ge"),
    pytest.param("comparison", "a == b", {"return a != b"}, id="eq"),
    pytest.param("comparison", "a != b", {"return a == b"}, id="ne"),
    pytest.param("comparison", "a in b", {"return a not in b"}, id="in"),
    pytest.param("comparison", "a not in b", {"return a in b"}, id="not-in"),
    pytest.param("comparison", "a is None", {"return a is not None"}, id="is"),
    pytest.param("comparison", "a < b < x", {"return a <= b < x", "return a < b <= x"}, id="chained"),
    pytest.param("constant", "x * 0", {"return x * 1"}, id="zero-to-one"),
    pytest.param("constant", "x * 1", {"return x * 0", "return x * 2", "return x * -1"}, id="one"),
    pytest.param("constant", "x * 3", {"return x * 4", "return x * 2", "return x * 6", "return x * -3"}, id="plus-minus-double-sign"),
    pytest.param("constant", "x * 0.5", {"return x * 1.5", "return x * -0.5", "return x * 1.0"}, id="float"),
    pytest.param("constant", "x - -2", {"return x - -1", "return x - -3", "return x - 2"}, id="negative-literal"),
    pytest.param("constant", "x if True else a", {"return x if False else a"}, id="boolean"),
    pytest.param("axis", "x.sum(axis=0)", {"return x.sum(axis=1)", "return x.sum(axis=-1)"}, id="axis-keyword"),
    pytest.param("axis", "x.softmax(dim=-1)", {"return x.softmax(dim=-2)", "return x.softmax(dim=0)"}, id="dim-keyword"),
    pytest.param("axis", "x.mean(1)", {"return x.mean(2)", "return x.mean(0)"}, id="positional-method"),
    pytest.param("axis", "np.sum(x, 0)", {"return np.sum(x, 1)"}, id="positional-function"),
    pytest.param("axis", "x.sum(axis=(0, 2))", {"return x.sum(axis=(1, 2))", "return x.sum(axis=(0, 3))"}, id="axis-tuple"),
    pytest.param("index", "x[n]", {"return x[n + 1]", "return x[n - 1]"}, id="subscript"),
    pytest.param("index", "x[2]", {"return x[3]", "return x[1]"}, id="literal-subscript"),
    pytest.param("index", "x[a:b]", {"return x[a + 1:b]", "return x[a:b - 1]"}, id="slice-bounds"),
    pytest.param("index", "x[:, n - 1]", {"return x[:, (n - 1) + 1]"}, id="tuple-index"),
    pytest.param("transpose", "x.T", {"return x"}, id="attribute-T"),
    pytest.param("transpose", "x.transpose(0, 1)", {"return x"}, id="transpose-method"),
    pytest.param("transpose", "np.transpose(x)", {"return x"}, id="transpose-function"),
    pytest.param("transpose", "a @ b", {"return b @ a"}, id="matmul-operator"),
    pytest.param("transpose", "np.matmul(a, b)", {"return np.matmul(b, a)"}, id="matmul-call"),
    pytest.param("drop-term", "a + b * x", {"return a", "return (b * x)"}, id="sum"),
    pytest.param("drop-term", "a - b", {"return a"}, id="difference"),
    pytest.param("sign", "-(a * b)", {"return (a * b)"}, id="unary-minus"),
    pytest.param("comparison", "np.greater(x, 0)", {"return np.greater_equal(x, 0)"}, id="greater-function"),
    pytest.param("comparison", "x.gt(0)", {"return x.ge(0)"}, id="gt-method"),
    pytest.param("rounding", "(n - 3) // b + 1", {"return round((n - 3) / b) + 1"}, id="floordiv-to-round"),
    pytest.param("rounding", "math.floor(x / b)", {"return round(x / b)", "return math.ceil(x / b)"}, id="floor"),
    pytest.param("rounding", "np.ceil(x)", {"return np.floor(x)", "return np.round(x)"}, id="ceil"),
    pytest.param("rounding", "int(x / b)", {"return round(x / b)"}, id="int-to-round"),
    pytest.param("rounding", "round(x)", {"return int(x)"}, id="round-to-int"),
    pytest.param("slice", "x[:, b:n - b]", {"return x[:, b:-b]"}, id="end-from-length"),
    pytest.param("counter", "[i for i in range(n)]", {"return [i for i in range(1, n)]"}, id="range"),
    pytest.param("counter", "list(enumerate(x))", {"return list(enumerate(x, 1))"}, id="enumerate"),
    pytest.param("in-place", "a - b * x", {"return a.__isub__(b * x)"}, id="array-parameter"),
]


@pytest.mark.parametrize("kind, expression, expected", CASES)
def test_each_kind_makes_its_change(kind, expression, expected):
    assert expected <= changed_lines(module(expression), kind)


def test_in_place_mutates_only_array_parameters():
    assert changed_lines("def f(a: float, b: np.ndarray):\n    return a - b\n", "in-place") == set()


def test_every_kind_is_covered_by_the_table():
    assert {case.values[0] for case in CASES} == set(KINDS)


@pytest.mark.parametrize("statement, expected", [
    pytest.param("total += a", {"total -= a", "pass"}, id="add-assign"),
    pytest.param("total *= a", {"total /= a", "pass"}, id="mul-assign"),
])
def test_augmented_assignments(statement, expected):
    source = f"def f(a):\n    total = 1\n    {statement}\n    return total\n"
    lines = {m.source.splitlines()[2].strip() for m in mutants(source) if m.kind in ("arithmetic", "drop-term")}
    assert expected <= lines


@pytest.mark.parametrize("source", [
    pytest.param('def f(x):\n    """Docstring 1 + 2 < 3."""\n    return x\n', id="docstring"),
    pytest.param('def f(x):\n    raise ValueError(f"bad {x + 1} < {2}")\n', id="raise"),
    pytest.param('def f(x):\n    assert x > 0, "positive"\n    return x\n', id="assert"),
    pytest.param('def f(x: list[int] = None) -> tuple[int, ...]:\n    return x\n', id="annotations"),
    pytest.param("import numpy as np\nfrom math import pi\n", id="imports"),
    pytest.param('def f(x):\n    return f"{x + 1}"\n', id="f-string"),
    pytest.param('if __name__ == "__main__":\n    print(1 + 1)\n', id="main-block"),
])
def test_what_cannot_change_a_result_is_left_alone(source):
    assert mutants(source) == []


def test_a_mutant_changes_one_place_and_keeps_the_rest_of_the_text():
    source = textwrap.dedent("""\
        def f(x):
            # the comment stays
            y = x + 1   # and this one
            return   y
    """)
    for mutant in mutants(source):
        before, after = source.splitlines(), mutant.source.splitlines()
        assert [i for i, (b, a) in enumerate(zip(before, after)) if b != a] == [2], mutant.description
        assert after[1] == "    # the comment stays" and after[3] == "    return   y"


def test_non_ascii_text_before_a_node_keeps_offsets_right():
    source = 'def f(x):\n    s = "héllo — ≥"; return x * 2\n'
    assert "    s = \"héllo — ≥\"; return x / 2" in {m.source.splitlines()[1] for m in mutants(source)}


def test_ids_are_stable_and_name_function_and_kind():
    source = module("a + b * 2")
    first, second = mutants(source), mutants(source)
    assert [m.id for m in first] == [m.id for m in second]
    assert all(m.id.startswith(f"f:{m.kind}:") for m in first)
    assert len({m.id for m in first}) == len(first)


def test_ids_survive_edits_elsewhere():
    before = {m.description: m.id for m in mutants("def f(x):\n    return x + 1\n\ndef g(y):\n    return y * 2\n")}
    after = {m.description: m.id for m in mutants("def f(x):\n    return x + 1\n\ndef g(y):\n    z = 3\n    return y * 2\n")}
    assert before["arithmetic: * -> /"] == after["arithmetic: * -> /"]
    assert before["arithmetic: + -> -"] == after["arithmetic: + -> -"]


def test_methods_are_named_with_their_class():
    found = mutants("class Layer:\n    def forward(self, x):\n        return x + 1\n")
    assert {m.function for m in found} == {"Layer.forward"}


def test_mutants_are_distinct_and_compile():
    source = module("x[0] * 0 + x[1:2].sum(axis=0)")
    found = mutants(source)
    assert len({m.source for m in found}) == len(found)
    for m in found:
        compile(m.source, m.id, "exec")


def test_diff_shows_the_changed_line_and_where():
    source = module("a + b")
    mutant = next(m for m in mutants(source) if m.description == "arithmetic: + -> -")
    diff = mutant.diff(source, "solutions/t.py")
    assert "@@ -2 +2 @@" in diff and "-    return a + b" in diff and "+    return a - b" in diff


@pytest.mark.parametrize("a, b, same", [
    pytest.param("def f():\n    return 2 + 0\n", "def f():\n    return 2\n", True, id="constant-folded"),
    pytest.param("def f(x):\n    return x + 0\n", "def f(x):\n    return x\n", False, id="not-folded"),
    pytest.param("def f(x):\n    return x  # note\n", "def f(x):\n\n    return x\n", True, id="layout-only"),
])
def test_same_bytecode(a, b, same):
    assert same_bytecode(a, b) is same
