"""The RL suggestion policy: PPO with a novelty (intrinsic) reward over the project's unit cube.

Channel `runs` (a `project_runs` snapshot, as for `surrogate`): the space and the runs. Each test
becomes its point in the unit cube (`_lib.unit_cube`, the suggestion engine's encoding); each run
what it found: log(1 + new buckets, + 2 x severity for a failure that found something new).

The environment. An episode starts at an earlier test (drawn in proportion to what it found, half
the mass uniform) and takes `horizon` steps; the observation is the point and the step's fraction
of the horizon, an action a in R^d moves the point by `step * tanh(a)` (clipped to the cube). A
step earns
    novelty  = mean distance to the k nearest of the history's points and the episode's own
               earlier points, over the history's typical nearest-neighbour distance
  + beta * finds = a kernel estimate of what the history found around the new point
               (shrunk to 0 where the history has nothing nearby),
so the policy learns where from an earlier test to go: away from what is known, towards what
paid. Feasibility is not modelled here (the script has no relation evaluator): the suggestion
engine makes each proposed point feasible with its own projection towards the starting test.

PPO (clipped objective, GAE, a Gaussian policy with a state-independent log-std, separate actor
and critic MLPs with tanh units) on `cuda` when torch sees a GPU, else the CPU; seeded, threads
capped at SM_NUM_CPUS. A few thousand runs train in seconds on one core.

The artifact: the actor as plain weight matrices (`policy.json`, `optiloop.policy/1`, evaluated
by numpy on the suggest path: no torch, no onnxruntime there) and, as the version's servable
model, the critic at the first step as ONNX (`value.onnx`, a regression over the params' unit
coordinates: how much novelty and finds the policy expects from a test there).

Metrics (on episodes from held-out starts, the policy's actions sampled as they are served):
policy_return (mean reward a step), random_walk_return (the same steps in random directions),
uniform_return (uniform points of the cube), return_ratio = policy / random walk (the gate: the
workflow registers a policy only above 1), novelty (the policy's mean novelty term).

Hyperparameters: iterations (40), episodes (256), horizon (4), step (0.25), beta (0.5),
k (5), hidden ("64,64"), learning_rate (0.003), epochs (4), clip (0.2), gamma (0.9), lam (0.95),
entropy (0.001), max_history (3000), seed (0), device (auto | cpu | cuda).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import numpy as np  # noqa: E402
from _lib import sm as _sm  # noqa: E402

_sm.require("torch", _sm.TORCH_INSTALL)
import torch  # noqa: E402
from _lib import sm, unit_cube  # noqa: E402
from _lib.model_files import write_artifact  # noqa: E402
from _lib.torch_util import export_onnx, pick_device, setup  # noqa: E402
from torch import nn  # noqa: E402

POLICY_FORMAT = "optiloop.policy/1"
MIN_RUNS = 20
TOP = 1.0 - 1e-9


def run_reward(r: dict[str, Any]) -> float:
    gain = float(r.get("new_buckets") or 0)
    if r.get("status") == "fail" and gain > 0:
        gain += 2.0 * float(r.get("failure_severity") or 0)
    return math.log1p(gain)


def mlp(n_in: int, hidden: list[int], n_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.Tanh()]
        n_in = h
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class Env:
    """Vectorised episodes over the unit cube: novelty against the history, finds from it."""

    def __init__(self, U: np.ndarray, r: np.ndarray, hp: dict[str, str], device: str) -> None:
        self.device = device
        self.d = U.shape[1]
        self.H = torch.tensor(U, dtype=torch.float32, device=device)
        self.step_size = float(hp.get("step", "0.25"))
        self.horizon = int(hp.get("horizon", "4"))
        self.k = min(int(hp.get("k", "5")), max(len(U) - 1, 1))
        self.beta = float(hp.get("beta", "0.5"))
        dist = torch.cdist(self.H, self.H) / math.sqrt(self.d)
        dist.fill_diagonal_(float("inf"))
        self.scale = float(dist.topk(self.k, dim=1, largest=False).values.mean().clamp_min(1e-6))
        mean_r = float(r.mean()) if r.mean() > 0 else 1.0
        self.r = torch.tensor(r / mean_r, dtype=torch.float32, device=device)
        p = r + 0.0
        self.start_p = 0.5 * p / p.sum() + 0.5 / len(p) if p.sum() > 0 else np.full(len(p), 1.0 / len(p))

    def starts(self, n: int, rng: np.random.Generator) -> torch.Tensor:
        rows = rng.choice(len(self.start_p), n, p=self.start_p)
        return self.H[torch.tensor(rows, device=self.device)]

    def obs(self, u: torch.Tensor, t: int) -> torch.Tensor:
        frac = torch.full((len(u), 1), t / self.horizon, device=self.device)
        return torch.cat([u, frac], dim=1)

    def move(self, u: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return (u + self.step_size * torch.tanh(a)).clamp(0.0, TOP)

    def reward(self, u: torch.Tensor, visited: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(reward, novelty) of arriving at u; `visited` are the episode's earlier points."""
        dh = torch.cdist(u, self.H) / math.sqrt(self.d)
        if visited:
            own = torch.stack([(u - v).norm(dim=1) for v in visited], dim=1) / math.sqrt(self.d)
            dh = torch.cat([dh, own], dim=1)
        novelty = dh.topk(self.k, dim=1, largest=False).values.mean(dim=1) / self.scale
        w = torch.exp(-0.5 * (dh[:, : len(self.H)] / self.scale) ** 2)
        finds = (w @ self.r) / (w.sum(dim=1) + 1.0)
        return novelty + self.beta * finds, novelty


class Agent(nn.Module):
    def __init__(self, d: int, hidden: list[int]) -> None:
        super().__init__()
        self.actor = mlp(d + 1, hidden, d)
        self.critic = mlp(d + 1, hidden, 1)
        self.log_std = nn.Parameter(torch.full((d,), math.log(0.5)))

    def dist(self, obs: torch.Tensor) -> torch.distributions.Normal:
        return torch.distributions.Normal(self.actor(obs), self.log_std.exp())

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)


class ValueAtStart(nn.Module):
    """The critic at step 0, as a function of the unit point alone (the exported model)."""

    def __init__(self, critic: nn.Module) -> None:
        super().__init__()
        self.critic = critic

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(torch.cat([x, torch.zeros_like(x[:, :1])], dim=1))


def rollout(
    env: Env, agent: Agent, n: int, rng: np.random.Generator, mode: str = "policy"
) -> dict[str, torch.Tensor]:
    """n episodes; mode `policy` samples the agent's actions, `random` takes N(0, 1) directions."""
    u = env.starts(n, rng)
    obs, acts, logps, rews, vals, novs = [], [], [], [], [], []
    visited = [u]
    with torch.no_grad():
        for t in range(env.horizon):
            o = env.obs(u, t)
            if mode == "policy":
                dist = agent.dist(o)
                a = dist.sample()
                logps.append(dist.log_prob(a).sum(-1))
                vals.append(agent.value(o))
            else:
                a = torch.randn(n, env.d, device=env.device)
            u = env.move(u, a)
            rew, nov = env.reward(u, visited)
            visited.append(u)
            obs.append(o)
            acts.append(a)
            rews.append(rew)
            novs.append(nov)
    out = {
        "obs": torch.stack(obs),
        "act": torch.stack(acts),
        "rew": torch.stack(rews),
        "nov": torch.stack(novs),
    }
    if mode == "policy":
        out["logp"], out["val"] = torch.stack(logps), torch.stack(vals)
    return out


def ppo(env: Env, agent: Agent, hp: dict[str, str], rng: np.random.Generator) -> list[float]:
    iters, episodes = int(hp.get("iterations", "40")), int(hp.get("episodes", "256"))
    gamma, lam = float(hp.get("gamma", "0.9")), float(hp.get("lam", "0.95"))
    clip, ent = float(hp.get("clip", "0.2")), float(hp.get("entropy", "0.001"))
    epochs = int(hp.get("epochs", "4"))
    opt = torch.optim.Adam(agent.parameters(), lr=float(hp.get("learning_rate", "0.003")))
    gen = torch.Generator(device="cpu").manual_seed(int(rng.integers(2**31)))
    history = []
    for _ in range(iters):
        b = rollout(env, agent, episodes, rng)
        T = env.horizon
        adv = torch.zeros_like(b["rew"])
        last = torch.zeros(episodes, device=env.device)
        for t in reversed(range(T)):
            next_v = b["val"][t + 1] if t + 1 < T else torch.zeros(episodes, device=env.device)
            delta = b["rew"][t] + gamma * next_v - b["val"][t]
            last = delta + gamma * lam * last
            adv[t] = last
        ret = (adv + b["val"]).reshape(-1)
        obs, act = b["obs"].reshape(T * episodes, -1), b["act"].reshape(T * episodes, -1)
        old_logp, adv = b["logp"].reshape(-1), adv.reshape(-1)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        for _ in range(epochs):
            for idx in torch.randperm(len(obs), generator=gen).split(256):
                idx = idx.to(env.device)
                dist = agent.dist(obs[idx])
                ratio = (dist.log_prob(act[idx]).sum(-1) - old_logp[idx]).exp()
                surrogate = torch.min(ratio * adv[idx], ratio.clamp(1 - clip, 1 + clip) * adv[idx])
                v_loss = (agent.value(obs[idx]) - ret[idx]).pow(2).mean()
                loss = -surrogate.mean() + 0.5 * v_loss - ent * dist.entropy().sum(-1).mean()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                opt.step()
        history.append(float(b["rew"].mean()))
    return history


def policy_doc(agent: Agent, names: list[str], env: Env) -> dict[str, Any]:
    """The actor as numpy evaluates it (optiloop.testopt.rl.policy): dense layers, tanh between."""
    linears = [m for m in agent.actor if isinstance(m, nn.Linear)]
    return {
        "format": POLICY_FORMAT,
        "params": names,
        "observation": "unit point, then step / horizon",
        "layers": [
            {
                "weight": m.weight.detach().cpu().double().tolist(),
                "bias": m.bias.detach().cpu().double().tolist(),
            }
            for m in linears
        ],
        "activation": "tanh",
        "log_std": agent.log_std.detach().cpu().double().tolist(),
        "step": env.step_size,
        "horizon": env.horizon,
    }


def train(
    U: np.ndarray, r: np.ndarray, hp: dict[str, str], device: str
) -> tuple[Agent, Env, dict[str, float]]:
    """Fit the agent on the history (U, r); metrics on episodes from held-out starts."""
    seed = int(hp.get("seed", "0"))
    rng = np.random.default_rng(seed)
    env = Env(U, r, hp, device)
    hidden = [int(h) for h in hp.get("hidden", "64,64").split(",") if h.strip()]
    agent = Agent(U.shape[1], hidden).to(device)
    history = ppo(env, agent, hp, rng)
    ev = np.random.default_rng(seed + 1)  # other starts, other noise than training saw
    n = 512
    pol = rollout(env, agent, n, np.random.default_rng(ev.integers(2**31)))
    walk = rollout(env, agent, n, np.random.default_rng(ev.integers(2**31)), mode="random")
    uni = torch.tensor(ev.random((n, env.d)), dtype=torch.float32, device=device)
    uniform = float(env.reward(uni, [])[0].mean())
    p, w = float(pol["rew"].mean()), float(walk["rew"].mean())
    metrics = {
        "return_ratio": p / w if w > 0 else 0.0,
        "policy_return": p,
        "random_walk_return": w,
        "uniform_return": uniform,
        "novelty": float(pol["nov"].mean()),
        "train.policy_return": history[-1] if history else p,
    }
    return agent, env, metrics


def read_snapshot(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    lines = (folder / "runs.jsonl").read_text().splitlines()
    runs = [
        r for r in (json.loads(x) for x in lines if x.strip()) if r.get("params") and r["status"] != "skipped"
    ]
    return manifest, runs


def main() -> None:
    hp = sm.hyperparameters()
    folder = sm.channel("runs") or sm.channel("train")
    if folder is None or not (folder / "manifest.json").is_file():
        sm.fail(
            "rl_policy needs a `runs` channel holding a prepare_training snapshot "
            '(inputs: {"runs": {"project_runs": "<project_id>"}})'
        )
    seed = int(hp.get("seed", "0"))
    threads = sm.num_cpus()
    setup(seed, threads)
    device = pick_device(hp.get("device", "auto"))
    print(f"device: {device}; threads: {threads}; torch {torch.__version__}", flush=True)
    manifest, runs = read_snapshot(folder)
    space = manifest.get("space", {}).get("params") or {}
    if not space:
        sm.fail("the project's space has no params to learn a policy over")
    if len(runs) < MIN_RUNS:
        sm.fail(f"the RL policy needs at least {MIN_RUNS} passed or failed runs with params, got {len(runs)}")
    runs = runs[-int(hp.get("max_history", "3000")) :]  # the newest: what the engine knows best now
    names = list(space)
    U = unit_cube.encode(space, [r["params"] for r in runs])
    r = np.array([run_reward(x) for x in runs])
    print(f"runs: {len(runs)}; params: {len(names)}; runs that found something: {int((r > 0).sum())}")
    t0 = time.perf_counter()
    agent, env, metrics = train(U, r, hp, device)
    print(f"timing: fit_seconds={time.perf_counter() - t0:.4f}")
    for name, value in metrics.items():
        sm.metric(name, value)
    agent = agent.to("cpu")
    value_onnx = export_onnx(ValueAtStart(agent.critic), len(names))
    write_artifact(
        sm.model_dir(),
        "value.onnx",
        value_onnx,
        {"task": "regression", "inputs": [{"name": n, "type": "number"} for n in names]},
        framework="pytorch",
        runtime="onnx",
        params={
            **hp,
            "device": device,
            "n_runs": len(runs),
            "params": names,
            "space_version": manifest.get("space", {}).get("space_version"),
            "runs_through_seq": manifest.get("runs_through_seq"),
        },
        metrics=metrics,
        data_fingerprint=sm.data_fingerprint(sm.channels()),
        extra_files={"policy.json": policy_doc(agent, names, env)},
        extra={"extra_models": {"policy": "policy.json"}, "onnx_output": "y"},
    )
    print("wrote policy.json (the actor, numpy-served), value.onnx and optiloop-model.json")


if __name__ == "__main__":
    main()
