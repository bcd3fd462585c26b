"""The static console's browser-side PKCE (shared/optiloop/console/static/js/oidc.js), run in Node:
the challenge is SHA-256 of the verifier (checked against Python's hashlib), the authorization URL
carries everything the IdP needs, and the redirect is redeemed only with its own state and nonce."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import optiloop.console

NODE = shutil.which("node")
MODULE = Path(optiloop.console.__file__).parent / "static" / "js" / "oidc.js"
pytestmark = pytest.mark.skipif(NODE is None, reason="needs Node.js (apt-get install nodejs)")

SCRIPT = r"""
const m = await import(process.argv.at(-1));
const mem = () => { const d = new Map(); return { getItem: (k) => d.has(k) ? d.get(k) : null,
  setItem: (k, v) => d.set(k, String(v)), removeItem: (k) => d.delete(k), size: () => d.size }; };
const oidc = { authorize_endpoint: "https://idp.example/oauth2/authorize", token_endpoint: "https://idp.example/oauth2/token",
  client_id: "client-1", redirect_uri: "https://console.example/", scope: "openid email" };
const jwt = (claims) => "e30." + Buffer.from(JSON.stringify(claims)).toString("base64url") + ".sig";
const out = {};
out.verifier = "A".repeat(20) + "-_.~" + "z".repeat(30);
out.challenge = await m.challenge(out.verifier);
const store = mem();
const url = new URL(await m.authorizeUrl(oidc, store, 1000));
out.params = Object.fromEntries(url.searchParams);
out.base = url.origin + url.pathname;
const pending = JSON.parse(store.getItem("optiloop.oidc.pending"));
out.pendingChallenge = await m.challenge(pending.verifier);
out.verifierLength = pending.verifier.length;
let sent = null;
const ok = async (u, init) => { sent = { url: u, body: Object.fromEntries(new URLSearchParams(init.body)) };
  return { ok: true, json: async () => ({ id_token: jwt({ nonce: pending.nonce, sub: "u1" }) }) }; };
const back = `?code=c&state=${pending.state}`;
const fail = async (f) => { try { await f(); return null; } catch (e) { return e.message; } };
out.isCallback = ["?code=c&state=s", "?error=access_denied&state=s", "?code=c"].map(m.isCallback);
out.wrongState = await fail(() => m.finish(oidc, "?code=c&state=nope", store, ok, 2000));
out.reused = await fail(() => m.finish(oidc, back, store, ok, 2000));  // a pending sign-in is used once
store.setItem("optiloop.oidc.pending", JSON.stringify(pending));
out.token = await m.finish(oidc, `?code=c0de&state=${pending.state}`, store, ok, 2000);
out.sent = sent;
out.left = store.size();
store.setItem("optiloop.oidc.pending", JSON.stringify(pending));
const badNonce = async () => ({ ok: true, json: async () => ({ id_token: jwt({ nonce: "other" }) }) });
out.badNonce = await fail(() => m.finish(oidc, back, store, badNonce, 2000));
store.setItem("optiloop.oidc.pending", JSON.stringify(pending));
out.late = await fail(() => m.finish(oidc, back, store, ok, 1000 + 11 * 60 * 1000));
store.setItem("optiloop.oidc.pending", JSON.stringify(pending));
const refused = async () => ({ ok: false, status: 400, json: async () => ({ error: "invalid_grant" }) });
out.refused = await fail(() => m.finish(oidc, back, store, refused, 2000));
const denied = "?error=access_denied&error_description=no&state=s";
out.denied = await fail(() => m.finish(oidc, denied, mem(), ok, 2000));
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert NODE is not None
    module = tmp_path_factory.mktemp("js") / "oidc.mjs"  # the browser's ES module, as Node loads one
    module.write_bytes(MODULE.read_bytes())
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, module.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_the_challenge_is_s256_of_the_verifier(run: dict[str, Any]) -> None:
    assert run["challenge"] == _s256(run["verifier"])
    assert run["params"]["code_challenge"] == run["pendingChallenge"]
    assert 43 <= run["verifierLength"] <= 128  # RFC 7636 4.1


def test_the_authorization_url_asks_for_a_code_bound_to_the_challenge(run: dict[str, Any]) -> None:
    p = run["params"]
    assert run["base"] == "https://idp.example/oauth2/authorize"
    assert p["response_type"] == "code" and p["code_challenge_method"] == "S256"
    assert p["client_id"] == "client-1" and p["redirect_uri"] == "https://console.example/"
    assert p["scope"] == "openid email" and p["state"] and p["nonce"] and p["state"] != p["nonce"]
    assert "code_verifier" not in p  # the verifier never leaves the tab before the redemption


def test_the_code_is_redeemed_once_with_its_own_state_verifier_and_nonce(run: dict[str, Any]) -> None:
    assert run["isCallback"] == [True, True, False]
    assert "state mismatch" in run["wrongState"] and "state mismatch" in run["reused"]
    assert run["token"].startswith("e30.") and run["left"] == 0
    sent = run["sent"]
    assert sent["url"] == "https://idp.example/oauth2/token"
    assert sent["body"]["grant_type"] == "authorization_code" and sent["body"]["code"] == "c0de"
    assert _s256(sent["body"]["code_verifier"]) == run["params"]["code_challenge"]
    assert sent["body"]["redirect_uri"] == "https://console.example/" and "client_secret" not in sent["body"]
    assert "nonce" in run["badNonce"] and "10 minutes" in run["late"]
    assert "invalid_grant" in run["refused"] and "refused: no" in run["denied"]
