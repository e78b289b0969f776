// The lineage graph of an artifact version: layers laid out by the server (x: hops upstream
// negative, downstream positive; y: rank in the layer), edges as one line trace, runs and
// versions as two marker traces whose points open their page when clicked.
(() => {
  const COLORS = { run: "#2f6feb", artifact: "#d97706" };

  function draw() {
    const element = document.getElementById("lineage-graph");
    const script = document.getElementById("lineage-data");
    if (!element || !script || !window.Plotly) return;
    const data = JSON.parse(script.textContent);
    const edgeX = [];
    const edgeY = [];
    for (const [x0, y0, x1, y1] of data.edges) {
      edgeX.push(x0, x1, null);
      edgeY.push(y0, y1, null);
    }
    const traces = [{
      type: "scatter", mode: "lines", x: edgeX, y: edgeY, hoverinfo: "skip",
      line: { color: "#9aa4b2", width: 1 }, showlegend: false,
    }];
    for (const kind of ["artifact", "run"]) {
      const nodes = data.nodes.filter((node) => node.kind === kind);
      traces.push({
        type: "scatter", mode: "markers+text", name: kind === "run" ? "Runs" : "Versions",
        x: nodes.map((node) => node.x), y: nodes.map((node) => node.y),
        text: nodes.map((node) => node.label), textposition: "bottom center",
        customdata: nodes.map((node) => node.url),
        hovertext: nodes.map((node) => `${node.label} (${node.detail})`), hoverinfo: "text",
        marker: {
          symbol: kind === "run" ? "circle" : "square", size: nodes.map((node) => (node.root ? 18 : 12)),
          color: COLORS[kind], line: { color: nodes.map((node) => (node.root ? "#111" : "#fff")), width: 2 },
        },
      });
    }
    const rows = Math.max(1, ...data.nodes.map((node) => Math.abs(node.y) * 2 + 1));
    const layout = {
      height: Math.min(900, Math.max(320, rows * 48)),
      margin: { l: 20, r: 20, t: 10, b: 30 }, hovermode: "closest",
      xaxis: { dtick: 1, zeroline: false, title: { text: "← upstream · downstream →" }, fixedrange: true },
      yaxis: { visible: false, fixedrange: true }, legend: { orientation: "h", y: -0.2 },
    };
    window.Plotly.react(element, traces, layout, window.PLOTLY_CONFIG).then(() => {
      element.dataset.drawn = "graph";
      element.on("plotly_click", (event) => {
        const url = event.points[0] && event.points[0].customdata;
        if (url) window.location.assign(url);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
