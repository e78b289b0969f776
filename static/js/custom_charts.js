// Run page "Custom charts": each chart logged with a wandb.plot preset is fetched as a plotly
// figure (built by the server from the chart's table) when it scrolls near the viewport, so a
// run with many charts reads only the tables someone looks at.
(() => {
  const CONFIG = window.PLOTLY_CONFIG;

  function showNote(element, text) {
    const note = element.closest("[data-custom-chart-panel]").querySelector("[data-custom-chart-note]");
    note.textContent = text;
    note.hidden = !text;
  }

  async function load(element) {
    const response = await fetch(element.dataset.url, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      element.textContent = "This chart could not be loaded.";
      return;
    }
    const data = await response.json();
    showNote(element, data.note);
    if (!data.figure) {
      element.classList.add("chart-empty");
      return;
    }
    // A table (a chart type not drawn here) is as tall as its rows, not a chart's height.
    element.classList.toggle("chart-fit", data.figure.data.every((trace) => trace.type === "table"));
    // A table needs Plotly's full bundle (the page's partial one draws the charts).
    const Plotly = await window.plotlyFor(data.figure.data);
    await Plotly.react(element, data.figure.data, data.figure.layout, CONFIG);
    element.dataset.drawn = "1";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const charts = [...document.querySelectorAll("[data-custom-chart]")];
    if (!window.Plotly || !charts.length) return;
    if (!("IntersectionObserver" in window)) {
      charts.forEach(load);
      return;
    }
    const observer = new IntersectionObserver((entries) => {
      entries.forEach((entry) => {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        load(entry.target);
      });
    }, { rootMargin: "300px" });
    charts.forEach((element) => observer.observe(element));
  });
})();
