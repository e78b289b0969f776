// The one Plotly configuration every chart of the site uses. Nothing in a chart's mode bar leaves
// the site: no "Share chart" upload to Plotly Cloud (plotly.js 4 shows it unless showSendToCloud
// is false), no logo link to plotly.com, and no destination for an upload even if one were asked
// for. Loaded before the scripts that draw charts.
window.PLOTLY_CONFIG = Object.freeze({
  displaylogo: false,
  showSendToCloud: false,
  plotlyServerURL: "",
  responsive: true,
  modeBarButtonsToRemove: ["lasso2d", "select2d", "toImage", "sendChartToCloud"],
});

// Pages load one of plotly.js's partial bundles (the trace types their own charts use), because
// evaluating the full one costs about a second before the page is ready. A figure whose traces
// the page's bundle lacks (a logged wandb.Plotly figure may hold any type) is drawn by the full
// bundle, fetched once when such a figure shows up (its URL is this script's data-plotly-full).
// window.Plotly stays the partial bundle: charts it drew keep being redrawn by the same copy.
(() => {
  const FULL_BUNDLE_URL = document.currentScript.dataset.plotlyFull;
  let fullBundle = null;

  function loadFullBundle() {
    if (!fullBundle) {
      fullBundle = new Promise((resolve, reject) => {
        const partial = window.Plotly;
        const script = document.createElement("script");
        script.src = FULL_BUNDLE_URL;
        // The bundle sets window.Plotly as it runs; its load event follows in the same task.
        script.onload = () => {
          const full = window.Plotly;
          window.Plotly = partial;
          resolve(full);
        };
        script.onerror = () => {
          script.remove();
          fullBundle = null;
          reject(new Error("Plotly's full bundle could not be loaded."));
        };
        document.head.append(script);
      });
    }
    return fullBundle;
  }

  // The trace types the page's bundle draws: those of plotly.js's smallest bundle (basic), else
  // read from the bundle's schema once (about 30 ms of script).
  const IN_EVERY_BUNDLE = new Set(["scatter", "bar", "pie"]);
  let partialTypes = null;
  function drawnByPartial(type) {
    if (IN_EVERY_BUNDLE.has(type)) return true;
    partialTypes ??= new Set(Object.keys(window.Plotly.PlotSchema.get().traces));
    return partialTypes.has(type);
  }

  // A promise of the Plotly that draws these traces (a trace without a type is a scatter).
  window.plotlyFor = (traces) => {
    const unknown = traces.some((trace) => !drawnByPartial((trace && trace.type) || "scatter"));
    return unknown ? loadFullBundle() : Promise.resolve(window.Plotly);
  };
})();
