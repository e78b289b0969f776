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
