"""The web console in a real browser against a real `optiloop serve`, and /docs, /redoc offline.

Driven by Playwright with Debian's `chromium` (Playwright's own browser download is not used): the
tests skip, saying why, where either is missing. Everything the console does goes through the same
REST API with the signed-in user's key, so what is asserted here is what a person sees: the API's
422 field and reason under the constraint editor, the coverage chart after an ingest, the four-eyes
403 for the author, the audit chain verified.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import requests

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None

CHROMIUM = os.environ.get("OPTILOOP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.skipif(
        sync_playwright is None, reason="playwright is not installed (pip install -e '.[dev]')"
    ),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium on PATH (apt-get install chromium, or set OPTILOOP_CHROMIUM to its binary)",
    ),
]

TOKEN = "console-admin-token-0123456789abcdef"
BAD_SPACE = {
    "params": {
        "payload_kb": {"type": "integer", "min": 1, "max": 1024},
        "region": {"type": "string", "enum": ["eu", "us", "ap"]},
    },
    "relations": ["payload <= 512 or region != 'ap'"],
}
GOOD_SPACE = {**BAD_SPACE, "relations": ["payload_kb <= 512 or region != 'ap'"]}
TIMEOUT_MS = 10_000


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None and CHROMIUM is not None
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/#/signin")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Projects")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in to OptiLoop")).to_be_visible()


def test_the_console_runs_the_loop_and_its_governance(
    serve: Callable[..., Any], tmp_path: Path, page: Page
) -> None:
    s = serve(tmp_path / "data", TOKEN)
    url = s.url

    # signed out, every page leads to sign-in; a wrong key is refused with the API's message
    page.goto(f"{url}/")
    expect(page.get_by_role("heading", level=1, name="Sign in to OptiLoop")).to_be_visible()
    # a new page puts focus on its content once it has loaded: the next Tab is its first field
    expect(page.locator("#main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("API key")).to_be_focused()
    page.get_by_label("API key").fill("olk_not-a-key-0123456789")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid or revoked API key")
    sign_in(page, url, TOKEN)
    # the key became a server-side session: an HttpOnly, SameSite=Strict cookie no script can read,
    # and a CSRF token for writes; the key itself is kept nowhere in the browser
    assert page.evaluate("sessionStorage.getItem('optiloop.key')") is None
    assert page.evaluate("sessionStorage.getItem('optiloop.csrf')")
    assert "optiloop_session" not in page.evaluate("document.cookie")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "optiloop_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and TOKEN not in cookie["value"]
    page.reload()  # a reloaded page finds its session again
    expect(page.get_by_role("heading", level=1, name="Projects")).to_be_visible()

    # a project, made from the console
    page.get_by_label("Name", exact=True).fill("checkout")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", level=1, name="checkout")).to_be_visible()
    pid = re.search(r"#/p/(prj_[0-9a-f]+)", page.url).group(1)  # type: ignore[union-attr]

    # a constraint with a typo: the API's field, reason, hint and position, inline
    editor = page.get_by_label("Parameter space (JSON)")
    editor.fill(json.dumps(BAD_SPACE))
    page.get_by_role("button", name="Validate and save").click()
    problem = page.locator("#constraint-result li.problem")
    expect(problem.locator(".field")).to_have_text("json_schema.relations[0]")
    expect(problem.locator(".reason")).to_contain_text("unknown parameter 'payload'")
    expect(problem.locator(".hint")).to_have_text("did you mean 'payload_kb'?")
    expect(problem.locator("pre.position")).to_contain_text("position 0")
    expect(editor).to_have_attribute("aria-invalid", "true")
    editor.fill(json.dumps(GOOD_SPACE))
    page.get_by_role("button", name="Validate and save").click()
    expect(page.locator("#constraint-result")).to_contain_text("Saved base v1")
    page.get_by_role("button", name="Preview 5 feasible samples").click()
    expect(page.get_by_role("table").filter(has_text="Feasible samples").locator("tbody tr")).to_have_count(5)

    # the coverage dashboard before any run
    page.get_by_role("link", name="Coverage").click()
    chart = page.get_by_role("img", name=re.compile("^Coverage over tests"))
    expect(chart).to_have_attribute("aria-label", re.compile("0 unique buckets after 0 tests"))

    # the suggest console
    page.get_by_role("link", name="Suggest").click()
    page.get_by_label("Generator").select_option("random")
    page.get_by_label("Batch size").fill("4")
    page.get_by_label("Seed (optional)").fill("7")
    page.get_by_role("button", name="Suggest", exact=True).click()
    expect(page.get_by_role("table").filter(has_text="Suggested tests").locator("tbody tr")).to_have_count(4)

    # runs ingested through the API (as a CI job would), then the chart follows on refresh
    tests = requests.get(
        f"{url}/v1/projects/{pid}/tests", params={"status": "pending"}, headers=h(TOKEN), timeout=10
    ).json()["items"]
    assert len(tests) == 9
    runs = [
        {
            "test_id": t["id"],
            "status": "fail" if i == 2 else "pass",
            "cost_cents": 3,
            "failure_severity": 3 if i == 2 else 0,
            "coverage_delta": {"buckets_hit": [i, 100 + i % 3]},
        }
        for i, t in enumerate(tests)
    ]
    r = requests.post(
        f"{url}/v1/projects/{pid}/runs:ingest", headers=h(TOKEN), json={"runs": runs}, timeout=10
    )
    assert r.status_code == 200 and r.json()["accepted"] == 9, r.text
    page.get_by_role("link", name="Coverage").click()
    page.get_by_role("button", name="Refresh").click()
    expect(chart).to_have_attribute("aria-label", re.compile("12 unique buckets after 9 tests"))
    assert chart.get_attribute("data-points") == "10"  # the origin, then one point per run
    expect(page.get_by_role("img", name=re.compile("^Failures by severity"))).to_have_attribute(
        "aria-label", re.compile("1 of severity 3")
    )

    # four eyes: alice writes and submits a prompt version; she may not approve it, bob may
    def key(principal: str) -> str:
        body = {"principal": principal, "role": "admin", "project_id": pid}
        return str(requests.post(f"{url}/v1/api-keys", headers=h(TOKEN), json=body, timeout=10).json()["key"])

    alice, bob = key("alice"), key("bob")
    prompt = requests.post(
        f"{url}/v1/projects/{pid}/prompts", headers=h(alice), json={"name": "qa"}, timeout=10
    )
    prid = prompt.json()["id"]
    versions = [
        requests.post(
            f"{url}/v1/prompts/{prid}/versions",
            headers=h(alice),
            json={"body": body, "variables": {"q": "str"}},
            timeout=10,
        ).json()["id"]
        for body in ("Answer briefly.\nQ: {{q}}", "Answer briefly and kindly.\nQ: {{q}}\nA:")
    ]
    r = requests.post(
        f"{url}/v1/prompt_versions/{versions[1]}/submit_for_approval", headers=h(alice), json={}, timeout=10
    )
    assert r.status_code == 201, r.text

    sign_out(page)
    sign_in(page, url, alice)
    page.get_by_role("link", name="Approvals").click()
    request_card = page.locator("article.approval")
    expect(request_card).to_have_count(1)
    request_card.get_by_role("button", name="Approve").click()
    expect(request_card.get_by_role("alert")).to_contain_text("four-eyes rule")

    sign_out(page)
    sign_in(page, url, bob)
    page.get_by_role("link", name="Approvals").click()
    page.get_by_label("Comment (required to reject)").fill("lgtm")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("article.approval").get_by_role("status")).to_contain_text("now approved")
    approval = requests.get(f"{url}/v1/approvals", headers=h(TOKEN), params={"project_id": pid}, timeout=10)
    assert approval.json()["items"][0]["decisions"][0]["principal"] == "bob"

    # the side-by-side diff of the two versions
    page.goto(f"{url}/#/p/{pid}/prompts/{prid}")
    page.get_by_role("button", name="Compare").click()
    diff = page.locator("#diff-view")
    expect(diff.locator("td.del")).to_have_count(1)
    expect(diff.locator("td.add")).to_have_count(2)
    expect(diff.locator("td.del")).to_contain_text("Answer briefly.")
    expect(diff.locator("td.add").first).to_contain_text("Answer briefly and kindly.")

    # a deployment rolled back after confirming
    for v in versions:
        body = {"prompt_version_id": v, "environment": "staging"}
        assert (
            requests.post(f"{url}/v1/deployments", headers=h(bob), json=body, timeout=10).status_code == 201
        )
    page.get_by_role("link", name="Deployments").click()
    page.get_by_role("button", name=re.compile("^Roll back prompt qa")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("goes back to the version it ran before")
    dialog.get_by_role("button", name="Roll back").click()
    expect(page.get_by_role("status").filter(has_text="Rolled back")).to_contain_text("now runs v1")
    # ...and taken down after confirming
    page.get_by_role("button", name=re.compile("^Undeploy prompt qa")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("stops serving")
    dialog.get_by_role("button", name="Undeploy").click()
    expect(page.get_by_role("status").filter(has_text="Undeployed")).to_contain_text("no longer serves")
    expect(page.get_by_role("button", name=re.compile("^Undeploy prompt qa"))).to_have_count(0)

    # the audit log verifies its chain
    sign_out(page)
    sign_in(page, url, TOKEN)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("table").locator("tbody tr").first).to_be_visible()
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.get_by_role("status").filter(has_text="Chain verified")).to_be_visible()


def external_references(html: str, host: str) -> list[str]:
    """Every src/href/url(...) in a page that points at another host."""
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*['"]?([^'")]+)""", html)
    urls = [a or b for a, b in refs]
    return [u for u in urls if u.startswith("//") or (urlparse(u).netloc not in ("", host))]


def test_docs_and_redoc_render_from_packaged_assets_only(
    serve: Callable[..., Any], tmp_path: Path, page: Page
) -> None:
    s = serve(tmp_path / "data", TOKEN)
    host = urlparse(s.url).netloc
    for path in ("/docs", "/redoc", "/"):
        r = requests.get(f"{s.url}{path}", timeout=10)
        assert r.status_code == 200, (path, r.text)
        assert external_references(r.text, host) == [], path
        assert "default-src 'self'" in r.headers["content-security-policy"], path

    # and in a browser with every other host unreachable, both pages render the API's title
    outside: list[str] = []

    def offline(route: Any) -> None:
        if urlparse(route.request.url).netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(f"{s.url}/docs")
    # both parse the whole OpenAPI document in the page: seconds on a loaded CI machine, hence the wait
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("OptiLoop", timeout=30_000)
    page.goto(f"{s.url}/redoc")
    expect(page.locator("h1").first).to_contain_text("OptiLoop", timeout=30_000)
    assert outside == []


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found["violations"]
    ]


def small_experiment(url: str, pid: str, run: bool) -> str:
    """An AutoML experiment on an 80-row table (ingested over the API), run to its end when `run`."""
    rows = "\n".join(f"{k},{(k * 7) % 5},{int((k * 7) % 5 + k % 3 > 3)}" for k in range(80))
    ds = requests.post(
        f"{url}/v1/datasets/ingest", headers=h(TOKEN), timeout=30,
        files={"file": ("t.csv", f"x,z,target\n{rows}\n", "text/csv")}, data={"project_id": pid, "name": "t"},
    ).json()  # fmt: skip
    body = {"project_id": pid, "task_type": "classification", "objective": "logloss", "dataset_id": ds["id"],
            "target": "target", "name": "churn search",
            "config": {"cv": {"folds": 3}, "hpo": {"trials": 4},
                       "models": ["logistic_regression"]}}  # fmt: skip
    r = requests.post(f"{url}/v1/experiments", headers=h(TOKEN), json=body, timeout=60)
    assert r.status_code == 201, r.text
    exp_id = str(r.json()["experiment_id"])
    if run:
        assert (
            requests.post(f"{url}/v1/experiments/{exp_id}/run", headers=h(TOKEN), timeout=10).status_code
            == 202
        )
        end = time.monotonic() + 60
        while (
            requests.get(f"{url}/v1/experiments/{exp_id}", headers=h(TOKEN), timeout=10).json()["status"]
            != "completed"
        ):
            assert time.monotonic() < end, "the experiment did not complete"
            time.sleep(0.2)
    return exp_id


def test_console_pages_pass_axe_wcag21_aa(
    serve: Callable[..., Any], tmp_path: Path, browser: Browser
) -> None:
    s = serve(tmp_path / "data", TOKEN)
    url = s.url
    pid = requests.post(f"{url}/v1/projects", headers=h(TOKEN), json={"name": "a11y"}, timeout=10).json()[
        "id"
    ]
    body = {"name": "base", "type": "hard", "json_schema": GOOD_SPACE}
    assert requests.post(f"{url}/v1/projects/{pid}/constraints", headers=h(TOKEN), json=body, timeout=30).ok
    tests = requests.post(
        f"{url}/v1/projects/{pid}/tests:suggest",
        headers=h(TOKEN),
        json={"batch_size": 5, "seed": 1},
        timeout=30,
    ).json()["tests"]
    runs = [
        {"test_id": t["id"], "status": "pass", "failure_severity": 0, "coverage_delta": {"buckets_hit": [i]}}
        for i, t in enumerate(tests)
    ]
    assert requests.post(
        f"{url}/v1/projects/{pid}/runs:ingest", headers=h(TOKEN), json={"runs": runs}, timeout=10
    ).ok

    model = {"project_id": pid, "name": "churn"}
    mid = requests.post(f"{url}/v1/models", headers=h(TOKEN), json=model, timeout=10).json()["id"]
    exp_id = small_experiment(url, pid, run=True)  # its leaderboard, selection and Pareto chart

    # a trace and an evaluation run, for their pages (the deterministic provider: no network)
    prm = requests.post(f"{url}/v1/projects/{pid}/prompts", headers=h(TOKEN), json={"name": "qa"}, timeout=10)
    version = {"body": "Q: {{q}}\nA: {{a}}", "variables": {"q": "str", "a": "str"}}
    vid = requests.post(
        f"{url}/v1/prompts/{prm.json()['id']}/versions", headers=h(TOKEN), json=version, timeout=10
    ).json()["id"]
    gen = {"prompt_version_id": vid, "variables": {"q": "2+2?", "a": "4"}}
    trace_id = requests.post(f"{url}/v1/generate", headers=h(TOKEN), json=gen, timeout=30).json()["trace_id"]
    ds = requests.post(
        f"{url}/v1/datasets", headers=h(TOKEN), json={"project_id": pid, "name": "g"}, timeout=10
    )
    examples = {"examples": [{"id": "e1", "input": {"q": "2+2?", "a": "4"}, "expected": "4"}]}
    assert requests.post(
        f"{url}/v1/datasets/{ds.json()['id']}/examples", headers=h(TOKEN), json=examples, timeout=10
    ).ok
    run = {
        "prompt_version_id": vid,
        "dataset_id": ds.json()["id"],
        "metrics": ["exact_match"],
        "compare_to": None,
    }
    eval_id = requests.post(f"{url}/v1/evals/run", headers=h(TOKEN), json=run, timeout=60).json()["id"]

    # the console's CSP allows only its own scripts: axe is injected with the policy bypassed
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{url}/#/signin")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        problems = {"signin": axe_violations(page)}
        sign_in(page, url, TOKEN)
        for name, hash_, ready in [
            ("projects", "#/projects", "Projects"),
            ("project", f"#/p/{pid}", "a11y"),
            ("suggest", f"#/p/{pid}/suggest", "Suggest tests"),
            ("coverage", f"#/p/{pid}/coverage", "Coverage"),
            ("prompts", f"#/p/{pid}/prompts", "Prompts"),
            ("deployments", f"#/p/{pid}/deployments", "Deployments"),
            ("models", f"#/p/{pid}/models", "Models"),
            ("model", f"#/p/{pid}/models/{mid}", "Model churn"),
            ("experiments", f"#/p/{pid}/experiments", "Experiments"),
            ("experiment", f"#/p/{pid}/experiments/{exp_id}", "Experiment churn search"),
            ("workflows", f"#/p/{pid}/workflows", "Workflow executions"),
            ("traces", f"#/p/{pid}/traces", "Traces"),
            ("trace", f"#/p/{pid}/traces/{trace_id}", f"Trace {trace_id}"),
            ("evals", f"#/p/{pid}/evals", "Evaluation results"),
            ("eval", f"#/p/{pid}/evals/{eval_id}", f"Evaluation {eval_id}"),
            ("approvals", "#/approvals", "Approvals"),
            ("audit", "#/audit", "Audit log"),
        ]:
            page.goto(f"{url}/{hash_}")
            expect(page.get_by_role("heading", level=1, name=ready)).to_be_visible()
            for scheme in ("light", "dark"):  # contrast holds in both colour schemes
                page.emulate_media(color_scheme=scheme)
                problems[f"{name} ({scheme})"] = axe_violations(page)
        assert {k: v for k, v in problems.items() if v} == {}

        # the coverage heatmap over two chosen params, and a chart saved as a real PNG file
        page.goto(f"{url}/#/p/{pid}/coverage")
        expect(page.get_by_role("img", name=re.compile("^Heatmap of tests run by"))).to_be_visible()
        page.get_by_label("Count").select_option("new coverage buckets")
        page.get_by_role("button", name="Draw").click()
        expect(
            page.get_by_role("img", name=re.compile("^Heatmap of new coverage buckets by"))
        ).to_be_visible()
        with page.expect_download() as saved:
            page.get_by_role("button", name="Save “Coverage over tests” as PNG").click()
        assert Path(saved.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # the Pareto front, when asked for, with its chart and members
        page.goto(f"{url}/#/p/{pid}/suggest")
        page.get_by_label(re.compile("^Also show the Pareto front")).check()
        page.get_by_role("button", name="Suggest").click()
        expect(
            page.get_by_role("img", name=re.compile("^Pareto front: coverage_gain against failure_prob"))
        ).to_be_visible()
        problems = {"suggest with its Pareto front": axe_violations(page)}
        assert {k: v for k, v in problems.items() if v} == {}
    finally:
        context.close()


def test_an_automl_experiment_runs_and_registers_from_the_console(
    serve: Callable[..., Any], tmp_path: Path, page: Page
) -> None:
    """A table ingested and an experiment created over the API (as the SDK does); from the console:
    the project's experiments, Run, the leaderboard filling until the search completes, why the
    winner wins, the Pareto chart, and the winner registered as a model version (both pages are in
    the axe test below)."""
    s = serve(tmp_path / "data", TOKEN)
    url = s.url
    pid = requests.post(f"{url}/v1/projects", headers=h(TOKEN), json={"name": "churn"}, timeout=10).json()[
        "id"
    ]
    small_experiment(url, pid, run=False)

    sign_in(page, url, TOKEN)
    page.goto(f"{url}/#/p/{pid}")
    page.get_by_role("link", name="Experiments").click()
    expect(page.get_by_role("heading", level=1, name="Experiments")).to_be_visible()
    page.get_by_role("link", name="churn search").click()
    expect(page.get_by_role("heading", level=1, name="Experiment churn search")).to_be_visible()
    page.get_by_role("button", name="Run").click()
    # the page follows the running search until it ends
    expect(page.locator(".badge", has_text="completed")).to_be_visible(timeout=60_000)
    board = page.get_by_role("table").filter(has_text="Leaderboard")
    expect(board.locator("tbody tr").first).to_contain_text("logistic_regression")
    expect(page.get_by_role("region", name="Why the winner wins")).to_contain_text("trial")
    # what it learnt from: x, a running number, left out as an id, and the CPU its trials spent
    left = page.get_by_role("table").filter(has_text="Columns left out").locator("tbody tr")
    expect(left.filter(has_text="id columns are not features")).to_contain_text("x")
    expect(page.get_by_text(re.compile(r"CPU-seconds; budget: \d+ trials"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^logloss against estimated latency"))).to_be_visible()
    # the report: the winner's features (x, a running number, is excluded as an id), and its PNG plots
    # fetched as the signed-in person
    features = page.get_by_role("table").filter(has_text="most important features").locator("tbody tr")
    expect(features).to_have_count(1)
    expect(features.first).to_contain_text("z")
    shap = page.get_by_role("img", name="Mean absolute SHAP value of the winner's features")
    expect(shap).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", shap.element_handle()) > 100  # a decoded PNG
    page.get_by_label("Model name").fill("churn")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("link", name="churn v1").click()
    expect(page.get_by_role("heading", level=1, name="Model churn")).to_be_visible()
    expect(page.get_by_role("table").filter(has_text="Versions").locator("tbody tr")).to_have_count(1)
