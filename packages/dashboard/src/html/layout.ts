import { html } from "hono/html";
import type { Html } from "./format.js";

/** What every page's shell needs. */
export interface LayoutContext {
  /** Where the dashboard is mounted ("" or "/ops"), prefixed to every link. */
  base: string;
  readOnly: boolean;
}

const NAV = [
  ["overview", "/", "Overview"],
  ["runs", "/runs", "Runs"],
  ["errors", "/errors", "Errors"],
  ["workflows", "/workflows", "Workflows"],
  ["workers", "/workers", "Workers"],
] as const;

/** The page shell: head with the package's own assets, the navigation, the page body. */
export function layout(
  ctx: LayoutContext,
  o: { title: string; active: (typeof NAV)[number][0] | ""; body: Html; head?: Html },
): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · Cairn</title>
        <link rel="stylesheet" href="${ctx.base}/assets/dashboard.css" />
        <script src="${ctx.base}/assets/htmx.min.js" defer></script>
        ${o.head ?? ""}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="${ctx.base}/">Cairn</a>
          <nav>
            ${NAV.map(
              ([key, path, label]) =>
                html`<a href="${ctx.base}${path}" class="${key === o.active ? "active" : ""}">${label}</a>`,
            )}
          </nav>
          ${ctx.readOnly ? html`<span class="read-only" title="actions are turned off">read-only</span>` : ""}
        </header>
        <main>${o.body}</main>
      </body>
    </html>`;
}

/** An error page body: the stable code and the message. */
export function errorBody(code: string, message: string): Html {
  return html`<section class="error-page">
    <h1>Error</h1>
    <p><code class="error-code">${code}</code></p>
    <p class="error-message">${message}</p>
  </section>`;
}
