"""The flows topic end to end: the messages students read, the reference against torch.distributions and autograd
Jacobians, and the checks' own grader-side flow (the wrong variants, the quadrature, the training run) against the
reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal, Transform, TransformedDistribution, constraints

from autograder.engine.results import FAILED, PASSED
from autograder.sandbox import components
from checks.public import flows as checks
from solutions import flows as ref

from conftest import ROOT, grade_source
from mistakes import known_mistakes

TOPIC = "flows"
REFERENCE = (ROOT / "solutions" / f"{TOPIC}.py").read_text()
KNOWN = known_mistakes(TOPIC)
RNG = np.random.default_rng(0)


def _graded(grader, source: str, check: str):
    (graded,) = grade_source(grader, source, TOPIC, checks=[check]).checks
    return graded


def test_the_sign_message_shows_the_documented_case(grader):
    """mistakes.md: the log-det's sign flipped gives log p = -1.915 instead of -0.083 (z = 2.5 x at x = 0.16)."""
    graded = _graded(grader, KNOWN["log_prob_logdet_sign"].source, "flow_log_prob_1d")
    assert graded.status == FAILED
    assert graded.message.startswith("flow_log_prob(x = [0.16, ")
    assert "one coupling with mask [0] and s = ln 2.5, t = 0: z = 2.5 x) (against TransformedDistribution: log N(2.5 x) + ln 2.5): your answer matches a known mistake: the log-determinant has the wrong sign" in graded.message


def test_a_conditioner_that_sees_the_transformed_half_is_caught_by_perturbing_it(grader):
    graded = _graded(grader, KNOWN["conditioner_sees_transformed_half"].source, "coupling_mask")
    assert graded.status == FAILED
    assert graded.message.startswith("affine_coupling_forward(x of shape (6, 5), mask [")
    assert "your answer matches a known mistake: the scale and shift nets see the whole input, the half they transform included" in graded.message


def test_a_log_det_that_is_not_the_log_det_of_its_own_jacobian_is_told_so(grader):
    """Half the log-det is no known mistake: the student is told it disagrees with slogdet of their own Jacobian."""
    graded = _graded(grader, REFERENCE.replace("logdet = s @ change", "logdet = 0.5 * s @ change"), "coupling_jacobian")
    assert graded.status == FAILED and graded.mistake is None
    assert ": the log-det against log|det J| of the autograd Jacobian J of your own output (np.linalg.slogdet): worst at index (" in graded.message


def test_a_log_density_right_only_for_the_first_steps_fails_the_outcome_of_training(grader):
    """Step parity sees the first steps only; a log-density whose gradient vanishes after them does not train."""
    stalls = "\n_reference = flow_log_prob\n_calls = [0]\n\n\ndef flow_log_prob(*args):\n    _calls[0] += 1\n    value = _reference(*args)\n    return value if _calls[0] <= 3 else value.detach() + 0 * value\n"
    graded = _graded(grader, REFERENCE + stalls, "flow_training")
    assert graded.status == FAILED and graded.mistake is None
    assert f"Adam lr {checks.LR}, {checks.STEPS} steps with your log-densities and gradients: the held-out log-likelihood went from " in graded.message
    assert f"it must gain at least {checks.MARGIN}" in graded.message
    assert [f["kind"] for f in graded.figures] == ["curves", "density"]


def test_training_attaches_the_curves_and_the_density_with_data_and_samples(grader):
    graded = _graded(grader, REFERENCE, "flow_training")
    assert graded.status == PASSED
    curves, density = graded.figures
    assert list(curves["series"]) == ["reference", "yours"]
    np.testing.assert_allclose(curves["series"]["yours"], curves["series"]["reference"], rtol=1e-9)  # the same run, up to rounding
    assert list(density["points"]) == ["data", "samples"] and np.shape(density["values"]) == (checks.DENSITY_GRID, checks.DENSITY_GRID)


def test_a_log_density_without_a_graph_is_told_why_training_needs_one(grader):
    graded = _graded(grader, REFERENCE.replace("return base.log_prob(z) + logdet", "return (base.log_prob(z) + logdet).detach()"), "flow_training")
    assert graded.status == FAILED
    assert graded.message.startswith(f"step 1 of {checks.STEPS}: flow_log_prob(x of shape (128, 2), the flow being trained, N(0, I_2)): returned a torch.Tensor of shape (128,)")
    assert "not a tensor with an autograd graph back to the nets' weights" in graded.message


# ---- the reference against torch.distributions and autograd ------------------------------------------------------


def _flow(d: int, couplings: int, seed: int) -> list[dict]:
    return checks.local(checks.random_flow(np.random.default_rng(seed), d, couplings))


def _x(n: int, d: int) -> torch.Tensor:
    return torch.tensor(RNG.normal(0.0, 1.5, (n, d)))


def test_the_documented_sign_numbers():
    """mistakes.md: log p -0.083 with the right sign, -1.915 with the log-det's sign flipped (z = 2.5 x at x = 0.16)."""
    normal = components.build("standard_normal", np.array(1), device="cpu")
    layer = {"mask": torch.zeros(1, dtype=torch.float64), "scale": lambda h: torch.full_like(h, math.atanh(math.log(2.5))), "shift": torch.zeros_like}
    x = torch.tensor([[0.16]], dtype=torch.float64)
    assert round(ref.flow_log_prob(x, [layer], normal).item(), 3) == -0.083
    z, logdet = ref.flow_forward(x, [layer])
    assert round((normal.log_prob(z) - logdet).item(), 3) == -1.915


@pytest.mark.parametrize("d", [2, 3, 5])
def test_reference_log_det_is_log_abs_det_of_the_autograd_jacobian(d: int):
    (layer,) = _flow(d, 1, d)
    x = _x(4, d)
    _, logdet = ref.affine_coupling_forward(x, layer["mask"], layer["scale"], layer["shift"])
    for n in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda row: ref.affine_coupling_forward(row[None], layer["mask"], layer["scale"], layer["shift"])[0][0], x[n])
        torch.testing.assert_close(logdet[n], torch.linalg.slogdet(jac)[1], rtol=1e-12, atol=1e-12)
    layers = _flow(d, 3, d + 10)
    _, total = ref.flow_forward(x, layers)
    for n in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda row: ref.flow_forward(row[None], layers)[0][0], x[n])
        torch.testing.assert_close(total[n], torch.linalg.slogdet(jac)[1], rtol=1e-12, atol=1e-12)


def test_reference_inverse_undoes_the_forward_with_minus_its_log_det():
    (layer,) = _flow(4, 1, 1)
    x = _x(5, 4)
    y, forward = ref.affine_coupling_forward(x, layer["mask"], layer["scale"], layer["shift"])
    back, inverse = ref.affine_coupling_inverse(y, layer["mask"], layer["scale"], layer["shift"])
    torch.testing.assert_close(back, x, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(inverse, -forward, rtol=1e-12, atol=1e-12)
    layers = _flow(4, 3, 2)
    z = torch.tensor(RNG.standard_normal((5, 4)))
    torch.testing.assert_close(ref.flow_forward(ref.flow_sample(layers, checks.base(4), z), layers)[0], z, rtol=1e-12, atol=1e-12)


def test_reference_1d_log_prob_matches_transformed_distribution():
    layers = [checks.Coupling(np.array([m]), checks.net(RNG, 1, 1.5), checks.net(RNG, 1, 1.0)) for m in (0.0, 1.0, 0.0)]
    x = _x(6, 1)
    want = checks.transformed_distribution(layers).log_prob(x)
    torch.testing.assert_close(ref.flow_log_prob(x, checks.local(layers), checks.base(1)), want.detach(), rtol=1e-12, atol=1e-12)


class _Coupling(Transform):
    """One coupling layer in torch.distributions' direction (latent to data: the reference's inverse), with the
    log-determinant from autograd, not from the reference's formula."""

    domain = codomain = constraints.real_vector
    bijective = True

    def __init__(self, layer: dict):
        super().__init__()
        self.layer = layer

    def _call(self, z: torch.Tensor) -> torch.Tensor:
        return ref.affine_coupling_inverse(z, self.layer["mask"], self.layer["scale"], self.layer["shift"])[0]

    def _inverse(self, x: torch.Tensor) -> torch.Tensor:
        return ref.affine_coupling_forward(x, self.layer["mask"], self.layer["scale"], self.layer["shift"])[0]

    def log_abs_det_jacobian(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.linalg.slogdet(torch.autograd.functional.jacobian(lambda row: self._call(row[None])[0], row))[1] for row in z])


@pytest.mark.parametrize("d", [2, 3])
def test_reference_log_prob_matches_transformed_distribution(d: int):
    layers = [layer for layer in _flow(d, 4, 7 + d) if "mask" in layer]  # couplings only: a permutation is not a Transform of torch's
    x = _x(5, d)
    normal = Independent(Normal(torch.zeros(d, dtype=torch.float64), 1.0), 1)
    want = TransformedDistribution(normal, [_Coupling(layer) for layer in reversed(layers)]).log_prob(x)
    torch.testing.assert_close(ref.flow_log_prob(x, layers, checks.base(d)), want, rtol=1e-10, atol=1e-10)


# ---- the checks' own maths against the reference ---------------------------------------------------------------


def test_the_grader_side_flow_is_the_reference_when_no_mistake_is_made():
    layers = _flow(4, 3, 3)
    x = _x(6, 4)
    for got, want in ((checks.coupling(x, layers[0]), ref.affine_coupling_forward(x, layers[0]["mask"], layers[0]["scale"], layers[0]["shift"])), (checks.coupling(x, layers[0], inverse=True), ref.affine_coupling_inverse(x, layers[0]["mask"], layers[0]["scale"], layers[0]["shift"]))):
        torch.testing.assert_close(got, want, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(checks.stack(x, layers), ref.flow_forward(x, layers), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(checks.stack(x, layers, inverse=True)[0], ref.flow_sample(layers, checks.base(4), x), rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(checks.log_prob(x, layers, 4), ref.flow_log_prob(x, layers, checks.base(4)), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("known", ["coupling_logdet_sign", "logdet_raw_scale", "coupling_wrong_half", "logdet_summed_over_batch", "conditioner_sees_transformed_half", "forward_permutation_inverted"])
def test_each_wrong_variant_is_what_the_mistakes_submission_computes(known: str):
    """The variants the checks name mistakes by are the known mistakes' own answers (tests/mistakes/flows.yaml)."""
    namespace: dict = {}
    exec(compile(KNOWN[known].source, f"<{known}>", "exec"), namespace)
    mistake = next(m for m in (*checks.FORWARD_MISTAKES, checks.PERM_INVERTED) if m.id == KNOWN[known].mistake)
    layers = _flow(4, 3, 4)
    x = _x(6, 4)
    got, want = namespace["flow_forward"](x, layers), checks.stack(x, layers, mistake=mistake)
    torch.testing.assert_close(got[0], want[0], rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(got[1], want[1].expand_as(got[1]), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_the_reference_integrates_to_one_well_within_the_checks_tolerance(seed: int):
    layers = checks.local(checks.smooth_flow(np.random.default_rng(seed)))
    points, _, cell = checks.grid_for(layers)
    density = torch.exp(ref.flow_log_prob(torch.tensor(points), layers, checks.base(2)))
    assert abs(float(density.sum()) * cell - 1.0) < checks.GRID_TOL / 3


def test_the_reference_run_gains_the_stated_margin():
    """The margin and band of flow_training (the reference's gain is >= 0.73 nats over 40 seeds; here 3)."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        data = checks.two_moons(rng, 256)
        _, curve = checks.reference_run(data[:128], data[128:], checks.initial_weights(rng))
        assert curve[-1] - curve[0] >= checks.MARGIN + 0.2


@pytest.mark.parametrize("fold", [False, True])
def test_reference_planar_flow_is_invertible_with_the_log_det_of_its_jacobian(fold: bool):
    z, w, u, b = (torch.tensor(a) for a in checks.planar_case(np.random.default_rng(int(fold)), 5, 3, fold))
    z[:2] -= torch.outer(z[:2] @ w + b, w) / (w @ w)  # on the hyperplane, where the determinant is smallest
    x, logdet = ref.planar_flow(z, w, u, b)
    for n in range(len(z)):
        jac = torch.autograd.functional.jacobian(lambda row: ref.planar_flow(row[None], w, u, b)[0][0], z[n])
        sign, logabs = torch.linalg.slogdet(jac)
        assert sign > 0
        torch.testing.assert_close(logdet[n], logabs, rtol=1e-12, atol=1e-12)
    # w . u_hat = m(w . u) = -1 + softplus(w . u) > -1, which the grader-side variant without u_hat breaks when fold.
    u_hat = (x[2] - z[2]) / torch.tanh(z[2] @ w + b)
    torch.testing.assert_close(w @ u_hat, -1 + torch.nn.functional.softplus(w @ u), rtol=1e-10, atol=1e-12)
    folded = checks.planar(z, w, u, b, mistake=checks.PLANAR_NO_U_HAT)[0]
    jac = torch.autograd.functional.jacobian(lambda row: checks.planar(row[None], w, u, b, mistake=checks.PLANAR_NO_U_HAT)[0][0], z[0])
    assert (torch.linalg.det(jac) < 0) == fold and not torch.allclose(folded, x)
    torch.testing.assert_close(checks.planar(z, w, u, b), (x, logdet), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda layer: ref.affine_coupling_forward(torch.zeros(3), layer["mask"], layer["scale"], layer["shift"]), "affine_coupling_forward: x must have shape"),
        (lambda layer: ref.affine_coupling_inverse(torch.zeros(2, 3), torch.ones(2, dtype=torch.float64), layer["scale"], layer["shift"]), r"affine_coupling_inverse: mask must have shape \(D,\) = \(3,\)"),
        (lambda layer: ref.affine_coupling_forward(torch.zeros(2, 3), torch.full((3,), 0.5), layer["scale"], layer["shift"]), "affine_coupling_forward: mask must hold only 0s and 1s"),
        (lambda layer: ref.flow_forward(torch.zeros(2, 3), [{"perm": torch.tensor([0, 0, 1])}]), r"flow_forward: layers\[0\]\['perm'\] must be a permutation of 0 .. 2"),
        (lambda layer: ref.flow_forward(torch.zeros(2, 3), [{"mask": layer["mask"]}]), r"flow_forward: layers\[0\] must be a dict with keys"),
        (lambda layer: ref.flow_sample([], checks.base(3), torch.zeros(2, 2)), r"flow_sample: z must have shape \(N, base.dim\) = \(N, 3\)"),
        (lambda layer: ref.planar_flow(torch.zeros(2, 3), torch.zeros(3), torch.ones(3), torch.tensor(0.0)), "planar_flow: w must not be all zeros"),
        (lambda layer: ref.planar_flow(torch.zeros(2, 3), torch.ones(3), torch.ones(3), torch.zeros(1)), "planar_flow: b must be a 0-d tensor"),
    ],
    ids=["x-1d", "mask-shape", "mask-values", "perm", "keys", "z-dim", "planar-w", "planar-b"],
)
def test_reference_rejects_bad_input_naming_function_and_argument(call, message: str):
    (layer,) = _flow(3, 1, 5)
    with pytest.raises(ValueError, match=message):
        call(layer)
