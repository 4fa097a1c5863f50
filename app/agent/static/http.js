// JSON calls to the console's endpoints, with the CSRF token of the page.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

/** Returns {ok, status, data}; never throws for HTTP errors (network errors become status 0). */
export async function api(method, url, body) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRFToken"] = csrf();
    options.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(url, options);
    let data = {};
    try { data = await response.json(); } catch { data = { message: `HTTP ${response.status}` }; }
    return { ok: response.ok, status: response.status, data };
  } catch (error) {
    return { ok: false, status: 0, data: { error: "network", message: "The server cannot be reached. Your edits are kept; try again in a moment." } };
  }
}
