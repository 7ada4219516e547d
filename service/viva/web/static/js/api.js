/* API client for Viva's REST API on the same origin: every failure becomes an ApiError carrying
 * the problem+json title and detail. */

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

// Credentials, when the server has accounts: an API key or a candidate link token, taken
// from ?key= or ?link= (then removed from the address bar) or asked for after a 401. Kept
// for this tab only (sessionStorage), sent as `Authorization: Bearer`.
const CREDENTIAL = "viva.credential";

function credential() {
  try {
    return window.sessionStorage.getItem(CREDENTIAL) || "";
  } catch (err) {
    return "";
  }
}

function keepCredential(token) {
  try {
    window.sessionStorage.setItem(CREDENTIAL, token);
  } catch (err) {
    /* storage off: the token lasts for this page only */
  }
  memoryCredential = token;
}

let memoryCredential = "";

/** The bearer token to send, if any (also used by report downloads, which fetch by hand). */
export const authToken = () => credential() || memoryCredential;
(function takeCredentialFromUrl() {
  const q = new URLSearchParams(window.location.search);
  const token = q.get("link") || q.get("key");
  if (!token) return;
  keepCredential(token);
  q.delete("link");
  q.delete("key");
  const rest = q.toString();
  const url = window.location.pathname + (rest ? `?${rest}` : "") + window.location.hash;
  window.history.replaceState(window.history.state, "", url);
})();

// While the model loads, the server answers 503 "warming up…": the page says so, waits a second
// and tries again (up to two minutes), instead of failing.
const WARM_TRIES = 120;

function showWarming(on) {
  const alert = document.getElementById("alert");
  if (!alert) return;
  if (on) {
    document.getElementById("alert-title").textContent = "Warming up";
    document.getElementById("alert-detail").textContent = "The grader is loading; this takes a few seconds.";
  }
  alert.hidden = !on;
}

export async function api(method, path, body, headers, retried, warm = 0) {
  let res;
  const token = authToken();
  try {
    res = await fetch(path, {
      method,
      headers: Object.assign(
        { Accept: "application/json" },
        body !== undefined ? { "Content-Type": "application/json" } : {},
        token ? { Authorization: `Bearer ${token}` } : {},
        headers || {},
      ),
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, "Can't reach the Viva service", "Check that the server is running, then try again.");
  }
  const type = res.headers.get("content-type") || "";
  let data = null;
  if (type.includes("json")) {
    try {
      data = await res.json();
    } catch (err) {
      data = null;
    }
  }
  if (res.status === 401 && !retried) {
    const given = window.prompt("This Viva server needs an API key or your interview link's token:");
    if (given && given.trim()) {
      keepCredential(given.trim());
      return api(method, path, body, headers, true, warm);
    }
  }
  if (res.status === 503 && data && /^warming up/i.test(String(data.detail)) && warm < WARM_TRIES) {
    showWarming(true);
    await new Promise((done) => window.setTimeout(done, 1000));
    const out = await api(method, path, body, headers, retried, warm + 1);
    if (!warm) showWarming(false);
    return out;
  }
  if (!res.ok) {
    let title = `Request failed (${res.status})`;
    let detail = res.statusText || "";
    if (data && typeof data === "object") {
      if (data.title) title = String(data.title);
      if (typeof data.detail === "string") detail = data.detail;
      else if (Array.isArray(data.detail)) detail = data.detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
      if (Array.isArray(data.errors) && !detail) detail = data.errors.map((d) => d.msg || String(d)).join("; ");
    }
    throw new ApiError(res.status, title, detail);
  }
  if (data === null && !type.includes("json")) data = await res.text().catch(() => null);
  return data;
}
