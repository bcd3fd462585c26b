"""The RL policy's two sides agree: the training script's unit cube is the engine's, and numpy
runs the exported actor as torch ran it; a bad policy document is refused naming the field."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optiloop.errors import InvalidInput
from optiloop.testopt.rl.policy import parse_policy
from optiloop.testopt.spaces import space_for
from optiloop.testopt.sut.driver import LocalLoop

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "training_jobs"), str(ROOT / "tests")]
from _lib import unit_cube  # noqa: E402
from rl_policies import script  # noqa: E402

SPACE = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "n": {"type": "integer", "min": 1, "max": 50, "log": True},
        "lr": {"type": "number", "min": 1e-5, "max": 1.0, "log": True},
        "kb": {"type": "number", "min": 0.1, "max": 512.0},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
        "cache": {"type": "boolean"},
        "coupon": {"type": "boolean"},
        "pct": {"type": "number", "min": 0, "max": 90, "active_if": "coupon"},
    }
}


def test_the_scripts_unit_cube_is_the_engines() -> None:
    loop = LocalLoop(SPACE)
    space = space_for(loop.deps.store, loop.project_id)
    rng = random.Random(0)
    points: list[dict[str, Any]] = []
    for _ in range(200):
        p: dict[str, Any] = {
            "qps": rng.randint(1, 5000),
            "n": rng.randint(1, 50),
            "lr": 10 ** rng.uniform(-5, 0),
            "kb": rng.uniform(0.1, 512.0),
            "region": rng.choice(["us", "eu", "apac"]),
            "cache": rng.random() < 0.5,
            "coupon": rng.random() < 0.5,
        }
        if p["coupon"]:
            p["pct"] = rng.uniform(0, 90)
        points.append(p)
    points += [{"qps": 1, "region": "mars", "kb": "big", "cache": 1}, {}]  # unfit values: 0.5, as the engine
    described = {p.name: p.spec() for p in space.params}  # what a project_runs snapshot carries
    np.testing.assert_allclose(unit_cube.encode(described, points), space.encode_dicts(points), atol=1e-12)


def _history(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    U = rng.random((n, d))
    r = np.where(U[:, 0] > 0.7, rng.poisson(2.0, n), 0).astype(float)  # finds in one corner
    return U, np.log1p(r)


def test_numpy_runs_the_actor_as_torch_does_and_ppo_beats_random_moves() -> None:
    mod = script()
    U, r = _history(400, 4)
    agent, env, metrics = mod.train(U, r, {"iterations": "15", "episodes": "128", "seed": "1"}, "cpu")
    assert metrics["return_ratio"] > 1.0  # its moves earn more than random moves from the same tests
    doc = json.loads(json.dumps(mod.policy_doc(agent, ["a", "b", "c", "d"], env)))  # as shipped
    net = parse_policy(doc)
    obs = np.hstack([np.random.default_rng(2).random((50, 4)), np.full((50, 1), 0.25)])
    with torch.no_grad():
        expected = agent.actor(torch.tensor(obs, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(net.mean(obs), expected, atol=1e-5)
    np.testing.assert_allclose(net.std, agent.log_std.exp().detach().double().numpy(), rtol=1e-6)
    moved = net.rollout(obs[:, :4], np.full(50, net.horizon), np.random.default_rng(3))
    assert moved.shape == (50, 4) and (moved >= 0).all() and (moved < 1).all()
    again = net.rollout(obs[:, :4], np.full(50, net.horizon), np.random.default_rng(3))
    assert np.array_equal(moved, again)  # the suggest rng decides the noise: seeded runs reproduce


def _doc(**over: Any) -> dict[str, Any]:
    doc = {
        "format": "optiloop.policy/1",
        "params": ["a", "b"],
        "layers": [
            {"weight": [[0.1, 0.2, 0.3]] * 4, "bias": [0.0] * 4},
            {"weight": [[0.1] * 4] * 2, "bias": [0, 0]},
        ],
        "activation": "tanh",
        "log_std": [-0.5, -0.5],
        "step": 0.25,
        "horizon": 4,
    }
    return {**doc, **over}


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"format": "x"}, "artifact.policy.format"),
        ({"params": ["a", "a"]}, "artifact.policy.params"),
        ({"layers": [{"weight": [[0.1, 0.2]] * 4, "bias": [0.0] * 4}]}, "artifact.policy.layers[0].weight"),
        ({"layers": [{"weight": [[0.1, 0.2, 0.3]] * 3, "bias": [0.0] * 3}]}, "artifact.policy.layers"),
        (
            {"layers": [{"weight": [[float("nan"), 0, 0]] * 2, "bias": [0, 0]}]},
            "artifact.policy.layers[0].weight",
        ),
        ({"log_std": [0.0]}, "artifact.policy.log_std"),
        ({"step": 0}, "artifact.policy.step"),
        ({"horizon": 1000}, "artifact.policy.horizon"),
        ({"activation": "relu"}, "artifact.policy.activation"),
    ],
)
def test_bad_policy_documents_are_refused_naming_the_field(over: dict[str, Any], field: str) -> None:
    parse_policy(_doc())  # the base document is fine
    with pytest.raises(InvalidInput) as e:
        parse_policy(_doc(**over))
    assert e.value.problems[0].field == field
