// OpenID Connect sign-in run by the browser (authorization code + PKCE, RFC 7636), for a console
// served as static files (S3 behind CloudFront) where no server can hold the code_verifier. With
// `optiloop serve` the server runs this flow instead (/console/oidc/login) and nothing here is used.
//
// What the page does: a random verifier, state and nonce, kept in this tab's sessionStorage only for
// the round trip; the IdP is asked for a code bound to SHA-256(verifier); back on the redirect URI the
// state must match and the code is redeemed with the verifier at the token endpoint (a public client:
// no secret). The ID token's nonce must be ours; its signature, issuer, audience and expiry are the
// API's to verify, on every request, exactly as for any bearer ID token (docs/auth.md).

const PENDING = "optiloop.oidc.pending";
const MAX_AGE_MS = 10 * 60 * 1000; // a sign-in left half-way expires, as the server's does

/** base64url without padding, of bytes. */
export function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random URL-safe string of `n` random bytes (43 characters for 32: a valid code_verifier). */
export function randomString(n = 32) {
  return b64url(crypto.getRandomValues(new Uint8Array(n)));
}

/** The S256 code_challenge of a verifier. */
export async function challenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return b64url(new Uint8Array(digest));
}

/** The claims of a JWT, unverified (the API verifies it); null when it is not one. */
export function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(part + "=".repeat((4 - (part.length % 4)) % 4));
    return JSON.parse(decodeURIComponent(escape(text)));
  } catch {
    return null;
  }
}

/** The URL of the IdP's authorization endpoint for a new sign-in; remembers its secrets in `store`. */
export async function authorizeUrl(oidc, store = sessionStorage, now = Date.now()) {
  const verifier = randomString(32);
  const state = randomString(16);
  const nonce = randomString(16);
  store.setItem(PENDING, JSON.stringify({ verifier, state, nonce, at: now }));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: oidc.client_id,
    redirect_uri: oidc.redirect_uri,
    scope: oidc.scope || "openid email profile",
    state,
    nonce,
    code_challenge: await challenge(verifier),
    code_challenge_method: "S256",
  });
  return `${oidc.authorize_endpoint}?${q}`;
}

/** Whether this page load is the IdP sending the browser back (`?code=&state=` or `?error=`). */
export function isCallback(search) {
  const q = new URLSearchParams(search);
  return q.has("state") && (q.has("code") || q.has("error"));
}

/**
 * Finish a sign-in from the redirect's query: check the state, redeem the code with the verifier,
 * check the ID token's nonce. Returns the ID token; throws an Error saying what failed. The pending
 * sign-in is used once, whatever happens.
 */
export async function finish(oidc, search, store = sessionStorage, fetcher = fetch, now = Date.now()) {
  const q = new URLSearchParams(search);
  const raw = store.getItem(PENDING);
  store.removeItem(PENDING);
  const pending = raw ? JSON.parse(raw) : null;
  if (q.get("error")) throw new Error(`the identity provider refused: ${q.get("error_description") || q.get("error")}`);
  if (!pending || pending.state !== q.get("state")) throw new Error("this sign-in was not started in this tab (state mismatch); sign in again");
  if (now - pending.at > MAX_AGE_MS) throw new Error("this sign-in took longer than 10 minutes; sign in again");
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    client_id: oidc.client_id,
    code: q.get("code") || "",
    redirect_uri: oidc.redirect_uri,
    code_verifier: pending.verifier,
  });
  const r = await fetcher(oidc.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body.toString(),
  });
  let answer = {};
  try {
    answer = await r.json();
  } catch {
    /* keep the status */
  }
  if (!r.ok || !answer.id_token) throw new Error(`the token endpoint refused the code: ${answer.error_description || answer.error || r.status}`);
  const c = claims(answer.id_token);
  if (!c || c.nonce !== pending.nonce) throw new Error("the ID token does not carry this sign-in's nonce; sign in again");
  return answer.id_token;
}
