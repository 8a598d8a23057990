// Standalone RegLab reports: plotly.js arrives gzipped and base64-encoded in the script tag
// "plotly-gz" (offline, once per page); the browser decompresses it, then draws every figure
// whose Plotly JSON sits in a <script type="application/json" data-figure="DIV-ID"> tag (its
// "frames" too: Play and the slider animate them). The animated figures inside one element of
// class "pair" (two runs' views) or "player" (every panel of a page's player, `player_page`) show
// the same frame: playing or sliding one moves the others.
(async () => {
  const gz = Uint8Array.from(atob(document.getElementById("plotly-gz").textContent), c => c.charCodeAt(0));
  const src = await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  const s = document.createElement("script"); s.text = src; document.head.appendChild(s);
  const named = new Map();  // figure div id -> its frames' names
  for (const el of document.querySelectorAll("script[data-figure]")) {
    const f = JSON.parse(el.textContent);
    named.set(el.dataset.figure, new Set((f.frames || []).map(fr => fr.name)));
    await Plotly.newPlot(el.dataset.figure, {data: f.data, layout: f.layout, frames: f.frames || [],
                                             config: {responsive: true}});
  }
  const still = {mode: "immediate", frame: {duration: 0, redraw: true}, transition: {duration: 0}};
  for (const group of document.querySelectorAll(".player, .pair")) {
    if (group.parentElement.closest(".player")) continue;  // a row of a player: the player moves it
    const figs = [...group.querySelectorAll(".js-plotly-plot")];
    for (const gd of figs) {
      gd.on("plotly_animatingframe", e => {
        if (gd.dataset.following === e.name) { delete gd.dataset.following; return; }  // moved here by a peer
        for (const peer of figs.filter(p => p !== gd && named.get(p.id).has(e.name))) {  // a panel may miss an epoch
          peer.dataset.following = e.name;
          Plotly.animate(peer, [e.name], still);
        }
      });
    }
  }
  document.body.dataset.ready = "true";
})();
