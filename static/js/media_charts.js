// Run page media drawn with Plotly: a logged histogram's bars at the shown step, its heat map over
// steps, and logged plotly figures (read from their JSON file). The data sits in the page as
// <script type="application/json"> next to each chart; the step slider swaps in new panels, which
// are drawn as they arrive.
(() => {
  const CONFIG = window.PLOTLY_CONFIG;
  const MARGIN = { l: 48, r: 12, t: 8, b: 40 };
  const FIGURE_MAX_HEIGHT = 480;

  function embeddedData(element) {
    const script = element.nextElementSibling;
    if (!script || script.type !== "application/json") return null;
    return JSON.parse(script.textContent);
  }

  function note(element, text) {
    const paragraph = document.createElement("p");
    paragraph.className = "muted";
    paragraph.textContent = text;
    element.replaceChildren(paragraph);
    element.style.height = "auto";
    element.dataset.drawn = "note";
  }

  function drawHistogram(element) {
    const bars = embeddedData(element);
    const trace = {
      type: "bar", x: bars.x, y: bars.y, width: bars.width,
      marker: { color: "#2f6feb", line: { width: 0 } }, hovertemplate: "%{x}: %{y}<extra></extra>",
    };
    const layout = {
      margin: MARGIN, height: 240, bargap: 0,
      xaxis: { automargin: true }, yaxis: { title: { text: "Count" }, automargin: true },
    };
    return window.plotlyFor([trace]).then((Plotly) => Plotly.react(element, [trace], layout, CONFIG));
  }

  function drawHeatmap(element) {
    const data = embeddedData(element);
    const trace = {
      type: "heatmap", x: data.x, y: data.y, z: data.z, colorscale: "Viridis",
      colorbar: { title: { text: "Count" }, thickness: 12 },
      hovertemplate: "Step %{x}<br>Bin %{y}<br>Count %{z}<extra></extra>",
    };
    const layout = {
      margin: MARGIN, height: 300,
      xaxis: { title: { text: "Step" }, automargin: true }, yaxis: { automargin: true },
    };
    return window.plotlyFor([trace]).then((Plotly) => Plotly.react(element, [trace], layout, CONFIG));
  }

  // A logged figure is anyone's JSON: anything that is not {data: [...], layout?: {...}} is a
  // note, and its fixed width (if any) gives way to the panel's, so it never widens the page.
  async function drawFigure(element) {
    const response = await fetch(element.dataset.url);
    if (!response.ok) {
      note(element, "This figure could not be loaded.");
      return;
    }
    let figure;
    try {
      figure = JSON.parse(await response.text());
    } catch {
      note(element, "This figure cannot be drawn: its file is not JSON.");
      return;
    }
    if (!figure || !Array.isArray(figure.data)) {
      note(element, "This figure cannot be drawn: it has no list of traces.");
      return;
    }
    const layout = figure.layout && typeof figure.layout === "object" ? { ...figure.layout } : {};
    delete layout.width;
    layout.autosize = true;
    layout.height = Math.min(Number(layout.height) || 400, FIGURE_MAX_HEIGHT);
    // Any trace type: the page's partial bundle or, for types it lacks, the full one.
    const Plotly = await window.plotlyFor(figure.data);
    try {
      await Plotly.newPlot(element, figure.data, layout, CONFIG);
    } catch (error) {
      Plotly.purge(element);
      note(element, `This figure cannot be drawn: ${error.message || error}`);
    }
  }

  const DRAWERS = [
    ["[data-histogram]", drawHistogram],
    ["[data-histogram-heatmap]", drawHeatmap],
    ["[data-plotly-figure]", drawFigure],
  ];

  function drawAll() {
    if (!window.Plotly) return;
    DRAWERS.forEach(([selector, draw]) => {
      document.querySelectorAll(`${selector}:not([data-drawn])`).forEach((element) => {
        element.dataset.drawn = "1";
        Promise.resolve()
          .then(() => draw(element))
          .catch(() => note(element, "This chart could not be drawn."));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSwap", drawAll);
})();
