// Standalone RegLab reports: plotly.js arrives gzipped and base64-encoded in the script tag
// "plotly-gz" (offline, once per page); the browser decompresses it, then draws every figure
// whose Plotly JSON sits in a <script type="application/json" data-figure="DIV-ID"> tag.
(async () => {
  const gz = Uint8Array.from(atob(document.getElementById("plotly-gz").textContent), c => c.charCodeAt(0));
  const src = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  const s = document.createElement("script"); s.text = src; document.head.appendChild(s);
  for (const el of document.querySelectorAll("script[data-figure]")) {
    const f = JSON.parse(el.textContent);
    await Plotly.newPlot(el.dataset.figure, {data: f.data, layout: f.layout, frames: f.frames || [],
                                             config: {responsive: true}});
  }
  document.body.dataset.ready = "true";
})();
