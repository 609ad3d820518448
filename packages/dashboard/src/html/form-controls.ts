import { html } from "hono/html";
import type { Html } from "./format.js";

/** `<option>`s of a select, the one equal to `selected` marked; `label` gives each option's text. */
export function options(
  values: readonly string[],
  selected: string | undefined,
  label = (v: string): string => v,
): Html[] {
  return values.map((v) => html`<option value="${v}" ${v === selected ? " selected" : ""}>${label(v)}</option>`);
}

/** A labelled checkbox; `extra` holds more attributes (already HTML). */
export function checkbox(name: string, value: string, checked: boolean, text: string, extra: Html | "" = ""): Html {
  return html`<label
    ><input type="checkbox" name="${name}" value="${value}" ${checked ? " checked" : ""}${extra} /> ${text}</label
  >`;
}
