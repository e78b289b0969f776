// Workspace media: a row per media key with the workspace's runs side by side. One slider per row
// moves every run of the row together; the server picks each run's nearest logged step at or
// below the chosen one. The rows follow the runs the charts show (the ticked ones, or the table's
// first ones), and are fetched again when that choice changes.
(() => {
  const DELAY_MS = 120;
  const WORKSPACE_RUNS = 10; // as charts.js and the server's WORKSPACE_RUNS_SHOWN

  function workspaceRuns() {
    const ticked = [...document.querySelectorAll('form#bulk input[name="run"]:checked')];
    if (ticked.length) return ticked.map((box) => box.value);
    const rows = [...document.querySelectorAll("#runs-region [data-run-id]")];
    return rows.slice(0, WORKSPACE_RUNS).map((cell) => cell.dataset.runId);
  }

  // A slow answer must not replace a newer one: each target keeps the URL it last asked for.
  function fetchInto(target, url) {
    target.dataset.wantedUrl = url;
    return htmx.ajax("GET", url, { target, swap: "innerHTML" });
  }

  function loadRows() {
    const block = document.querySelector("[data-workspace-media]");
    if (!block) return;
    const params = new URLSearchParams();
    workspaceRuns().forEach((id) => params.append("run", id));
    fetchInto(block, `${block.dataset.url}?${params}`);
  }

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (target && target.dataset.wantedUrl && event.detail.requestConfig) {
      if (event.detail.requestConfig.path !== target.dataset.wantedUrl) {
        event.detail.shouldSwap = false;
      }
    }
  });

  document.addEventListener("input", (event) => {
    const slider = event.target.closest("[data-workspace-media-slider]");
    if (!slider) return;
    const row = slider.closest("[data-workspace-media-row]");
    const step = JSON.parse(row.dataset.steps)[Number(slider.value)];
    row.querySelector("[data-workspace-media-step]").textContent = step;
    clearTimeout(row.mediaTimer);
    row.mediaTimer = setTimeout(() => {
      const cells = row.querySelector("[data-workspace-media-cells]");
      fetchInto(cells, `${row.dataset.cellsUrl}&step=${step}`).then(() => {
        if (cells.dataset.wantedUrl.endsWith(`&step=${step}`)) cells.dataset.step = step;
      });
    }, DELAY_MS);
  });

  document.addEventListener("DOMContentLoaded", loadRows);

  document.addEventListener("change", (event) => {
    if (!event.target.closest("form#bulk")) return;
    if (event.target.name === "run" || event.target.matches("[data-select-page]")) loadRows();
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("form#bulk [data-clear-selection]")) loadRows();
  });

  // The runs table was filtered or paged, or the workspace redrawn: the shown runs may differ.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id === "runs-region" || event.target.id === "workspace") loadRows();
  });
})();
