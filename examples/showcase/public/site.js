// The showcase's script: served by StaticFiles as site.<hash>.js, cached for a year.
// The "Call the API" button sends the demo token to the rate-limited API and shows
// the answer with its RateLimit fields; the eleventh call within a minute gets a 429.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("call-api");
  const output = document.getElementById("api-result");
  if (!button || !output) {
    return;
  }
  button.addEventListener("click", async () => {
    // Logged in, the page's own cookie is enough; otherwise the demo token, as a script sends it.
    const headers = { Accept: "application/json" };
    if (button.dataset.token) {
      headers.Authorization = `Bearer ${button.dataset.token}`;
    }
    const response = await fetch(button.dataset.url, { headers });
    const lines = [
      `HTTP ${response.status}`,
      `RateLimit-Policy: ${response.headers.get("RateLimit-Policy")}`,
      `RateLimit: ${response.headers.get("RateLimit")}`,
    ];
    if (response.headers.has("Retry-After")) {
      lines.push(`Retry-After: ${response.headers.get("Retry-After")}`);
    }
    lines.push("", JSON.stringify(await response.json(), null, 2));
    output.textContent = lines.join("\n");
    output.classList.toggle("refused", !response.ok);
  });
});
