"""A page's address with a query, in a box with a copy button (`share_link`): what `st.code`
showed, without its syntax highlighter. On a fresh app's Train page ("Link to these settings")
the browser spent 0.44 s evaluating that highlighter's script and loading its font while the
Train button was already drawn, so the first press waited for it. The box takes the theme's
colours and fonts (Streamlit's `--st-*` variables), so it reads in dark mode as well."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

_CSS = """
.reglab-link { display: flex; gap: 0.5rem; align-items: center; padding: 0.4rem 0.5rem 0.4rem 0.75rem;
  background: var(--st-secondary-background-color, #f0f2f6); color: var(--st-text-color, #31333f);
  border-radius: var(--st-base-radius, 0.5rem); font-family: var(--st-code-font, monospace); font-size: 0.8rem; }
.reglab-link code { flex: 1; min-width: 0; overflow-wrap: anywhere; white-space: pre-wrap; color: inherit;
  background: none; font-family: inherit; padding: 0; }
.reglab-link button { flex: none; cursor: pointer; color: inherit; background: none; font: inherit;
  border: 1px solid currentColor; border-radius: var(--st-base-radius, 0.5rem); padding: 0.1rem 0.5rem; opacity: 0.8; }
.reglab-link button:hover { opacity: 1; }
"""
_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const text = parentElement.querySelector('.reglab-link code');
  const button = parentElement.querySelector('.reglab-link button');
  text.textContent = data.url;
  const said = (word) => { button.textContent = word; setTimeout(() => { button.textContent = 'Copy'; }, 1500); };
  const select = () => {  // no clipboard API (an http address other than localhost): select it for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents(text);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    return document.execCommand && document.execCommand('copy');
  };
  button.onclick = () => (navigator.clipboard ? navigator.clipboard.writeText(data.url) : Promise.reject())
    .then(() => said('Copied'), () => said(select() ? 'Copied' : 'Press Ctrl+C'));
}
"""
_HTML = '<div class="reglab-link"><code></code><button type="button" title="Copy the link">Copy</button></div>'
_LINK = st.components.v2.component("reglab_link", html=_HTML, css=_CSS, js=_JS, isolate_styles=False)


def share_link(params: dict[str, str], label: str) -> None:
    """`label` and the address of this page with `params` as its query, in a box with a copy button
    (the address as the browser shows it, `st.context.url`; the query alone when it is unknown)."""
    st.caption(label)
    url = f"{st.context.url or ''}?{urlencode(params)}"
    _LINK(key=f"link-{label}", data={"url": url})
