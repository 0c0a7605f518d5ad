"""`GET /set-password`: the page a password-reset or invitation mail links to.

Invariants: the link's secret travels in the URL fragment (`#token=`), which the browser never
sends to the server, and the page sends it only to this service's own `resetPassword`
mutation; the page is self-contained (no script or style from elsewhere), forbids framing
and caching, and works without the dashboard.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Choose your password</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;font-size:1rem}
button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem}#msg{margin-top:1rem}</style>
</head><body>
<h1>Choose your password</h1>
<form id="f"><label for="p1">New password (at least 12 characters, not a common one)</label>
<input id="p1" type="password" autocomplete="new-password" minlength="12" maxlength="200" required>
<label for="p2">Again</label>
<input id="p2" type="password" autocomplete="new-password" minlength="12" maxlength="200" required>
<button type="submit">Set password</button></form>
<p id="msg" role="status"></p>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
history.replaceState(null, "", location.pathname);
const msg = document.getElementById("msg");
if (!token) msg.textContent = "This page needs the link from your mail.";
document.getElementById("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  const p1 = document.getElementById("p1").value, p2 = document.getElementById("p2").value;
  if (p1 !== p2) { msg.textContent = "The two passwords differ."; return; }
  const query = "mutation ResetPassword($token: String!, $p: String!) " +
    "{ resetPassword(input: {token: $token, newPassword: $p}) { email } }";
  const r = await fetch("/graphql", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({query, variables: {token, p: p1}})});
  const body = await r.json();
  if (body.errors) { msg.textContent = body.errors[0].message; return; }
  document.getElementById("f").hidden = true;
  const email = body.data.resetPassword.email;
  msg.textContent = "Done. Sign in with " + email + " and your new password.";
});
</script></body></html>
"""


async def set_password_page(_request: Request) -> Response:
    return HTMLResponse(
        PAGE,
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
            "style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        },
    )
