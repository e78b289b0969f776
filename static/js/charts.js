// Charts of the run page and the project workspace, drawn with Plotly from the chart data
// endpoints. The server buckets long series (keeping each bucket's lowest and highest value);
// zooming re-reads the visible step range at the resolution it needs.
(() => {
  const CONFIG = window.PLOTLY_CONFIG;
  const LIVE_EVERY_MS = 10000;
  const WORKSPACE_RUNS = 10;
  const state = { x: "step", smoothing: 0 };
  const cache = new WeakMap(); // chart element -> {series: [...], range: [lo, hi] | null}

  function paintDots(root) {
    root.querySelectorAll("[data-color].run-dot").forEach((dot) => {
      dot.style.backgroundColor = dot.dataset.color;
    });
  }

  // Exponential moving average with W&B's debiasing, so the first points are not pulled to 0.
  function smooth(values, weight) {
    if (!weight) return values;
    let last = 0;
    let count = 0;
    return values.map((value) => {
      if (value === null) return null;
      last = last * weight + (1 - weight) * value;
      count += 1;
      return last / (1 - weight ** count);
    });
  }

  function xOf(series, axis) {
    if (axis === "runtime") return series.runtime;
    if (axis === "timestamp") {
      return series.timestamp.map((t) => (t === null ? null : new Date(t * 1000)));
    }
    return series.step;
  }

  function traces(element, seriesList) {
    const axis = element.dataset.x || state.x;
    const result = [];
    seriesList.forEach((series) => {
      const x = xOf(series, axis);
      const name = series.name || series.key;
      const color = series.color || element.dataset.color;
      if (state.smoothing > 0) {
        result.push({
          x, y: series.value, name, type: "scatter", mode: "lines", showlegend: false,
          hoverinfo: "skip", line: { color, width: 1 }, opacity: 0.25,
        });
      }
      // A few points (a short run's system metrics) would not show as a line alone.
      const mode = series.step.length < 30 ? "lines+markers" : "lines";
      result.push({
        x, y: smooth(series.value, state.smoothing), name, type: "scatter", mode,
        line: { color, width: 1.5 }, connectgaps: false,
      });
    });
    return result;
  }

  // Grouped workspace (the table grouped by ?group=): per group, its mean line over a band from
  // the lowest to the highest value of its runs, in one colour.
  const GROUP_COLORS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  ];

  function translucent(hex, alpha) {
    const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }

  function groupTraces(groups) {
    const result = [];
    groups.forEach((group, index) => {
      const color = GROUP_COLORS[index % GROUP_COLORS.length];
      const legendgroup = `group-${index}`;
      let runs = `${group.count} run${group.count === 1 ? "" : "s"}`;
      if (group.charted < group.count) runs += `, ${group.charted} charted`;
      const band = { x: group.step, type: "scatter", mode: "lines", legendgroup,
        showlegend: false, hoverinfo: "skip", line: { color, width: 0 }, connectgaps: false };
      // "tonexty" fills down to the trace before it: the band's lower edge comes first.
      result.push({ ...band, y: group.min, name: `${group.label} min` });
      result.push({ ...band, y: group.max, name: `${group.label} max`, fill: "tonexty",
        fillcolor: translucent(color, 0.18) });
      result.push({
        x: group.step, y: smooth(group.mean, state.smoothing), name: `${group.label} (${runs})`,
        type: "scatter", mode: group.step.length < 30 ? "lines+markers" : "lines", legendgroup,
        line: { color, width: 2 }, connectgaps: false,
      });
    });
    return result;
  }

  // The grouping the runs table shows (its filters and keys), or null when it is not grouped.
  function groupParams() {
    const grouped = document.querySelector("#runs-region [data-group-params]");
    return grouped ? grouped.dataset.groupParams : null;
  }

  function showWorkspaceNote(text) {
    const note = document.querySelector("[data-workspace-note]");
    if (!note) return;
    if (note.dataset.runsNote === undefined) note.dataset.runsNote = note.textContent;
    note.textContent = text || note.dataset.runsNote;
  }

  // Bytes read best with SI prefixes (300M); other units as plain numbers with thousands
  // separators (22,643 MB rather than 22.643k MB). Charts without a unit keep Plotly's default.
  function tickFormat(unit) {
    return unit && unit !== "bytes" ? ",~r" : "";
  }

  function layout(element) {
    const axis = element.dataset.x || state.x;
    const unit = element.dataset.unit || "";
    const titles = { step: "Step", runtime: "Relative time (s)", timestamp: "Wall time" };
    const entry = cache.get(element);
    const workspace = element.hasAttribute("data-workspace-panel");
    // Workspace panels name their runs in a legend below; the axis title would sit under it.
    const xaxis = { title: { text: workspace ? "" : titles[axis] }, automargin: true };
    if (entry && entry.range && axis === "step") xaxis.range = entry.range;
    return {
      margin: { l: 48, r: 12, t: 8, b: workspace ? 24 : 40 }, height: workspace ? 300 : 240,
      xaxis, yaxis: { automargin: true, title: { text: unit }, tickformat: tickFormat(unit) },
      showlegend: workspace,
      legend: { orientation: "h", yanchor: "top", y: -0.12 }, hovermode: "x unified",
    };
  }

  function draw(element) {
    const entry = cache.get(element);
    if (!entry || !window.Plotly) return;
    const data = entry.groups ? groupTraces(entry.groups) : traces(element, entry.series);
    window.Plotly.react(element, data, layout(element), CONFIG);
    if (!element.dataset.zoomBound) {
      element.dataset.zoomBound = "1";
      element.on("plotly_relayout", (event) => onZoom(element, event));
    }
  }

  function onZoom(element, event) {
    if ((element.dataset.x || state.x) !== "step") return;
    const entry = cache.get(element);
    if (event["xaxis.autorange"]) {
      entry.range = null;
      load(element);
    } else if (event["xaxis.range[0]"] !== undefined) {
      entry.range = [event["xaxis.range[0]"], event["xaxis.range[1]"]];
      load(element);
    }
  }

  function urlFor(element) {
    const root = element.closest("[data-metric-url]");
    const params = new URLSearchParams({ key: element.dataset.key });
    if (element.dataset.stream) params.set("stream", element.dataset.stream);
    const entry = cache.get(element);
    if (entry && entry.range) {
      params.set("min", Math.max(0, Math.floor(entry.range[0])));
      params.set("max", Math.max(0, Math.ceil(entry.range[1])));
    }
    if (element.hasAttribute("data-workspace-panel")) {
      const grouping = groupParams();
      if (grouping !== null) {
        new URLSearchParams(grouping).forEach((value, name) => params.append(name, value));
        return `${root.dataset.groupMetricUrl}?${params}`;
      }
      workspaceRuns().forEach((id) => params.append("run", id));
    }
    return `${root.dataset.metricUrl}?${params}`;
  }

  async function load(element) {
    const response = await fetch(urlFor(element), { headers: { Accept: "application/json" } });
    if (!response.ok) {
      element.textContent = "This chart could not be loaded.";
      return;
    }
    const data = await response.json();
    const entry = cache.get(element) || { range: null };
    entry.groups = data.groups || null;
    entry.series = data.groups ? data.groups : data.series || [data];
    cache.set(element, entry);
    element.dataset.loaded = String(entry.series.reduce((n, s) => n + s.step.length, 0));
    if (element.hasAttribute("data-workspace-panel")) showWorkspaceNote(data.note);
    draw(element);
  }

  function charts(root = document) {
    return [...root.querySelectorAll("[data-chart], [data-workspace-panel]")];
  }

  // Workspace: the ticked runs of the table, or else the first runs in the table's order.
  function workspaceRuns() {
    const ticked = [...document.querySelectorAll('form#bulk input[name="run"]:checked')];
    if (ticked.length) return ticked.map((box) => box.value);
    const rows = [...document.querySelectorAll("#runs-region [data-run-id]")];
    return rows.slice(0, WORKSPACE_RUNS).map((cell) => cell.dataset.runId);
  }

  function loadAll(root = document) {
    charts(root).forEach((element) => load(element));
  }

  document.addEventListener("DOMContentLoaded", () => {
    paintDots(document);
    loadAll();
    const live = document.querySelector("[data-charts][data-live='1']");
    if (live) {
      setInterval(() => charts(live).forEach((element) => {
        const entry = cache.get(element);
        if (!entry || !entry.range) load(element);
      }), LIVE_EVERY_MS);
    }
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-chart-x]")) {
      state.x = event.target.value;
      charts().forEach((element) => {
        const entry = cache.get(element);
        if (entry) entry.range = null;
        draw(element);
      });
    } else if (event.target.closest("form#bulk") && event.target.name === "run") {
      document.querySelectorAll("[data-workspace-panel]").forEach((element) => load(element));
    }
  });

  document.addEventListener("input", (event) => {
    if (!event.target.matches("[data-chart-smoothing]")) return;
    state.smoothing = Number(event.target.value);
    document.querySelectorAll("[data-chart-smoothing-value]").forEach((output) => {
      output.textContent = event.target.value;
    });
    charts().forEach((element) => draw(element));
  });

  // htmx swapped the runs table or the workspace: draw what is new, follow the new rows.
  document.addEventListener("htmx:afterSwap", (event) => {
    paintDots(event.target);
    if (event.target.id === "workspace") loadAll(event.target);
    else if (event.target.id === "runs-region") {
      document.querySelectorAll("[data-workspace-panel]").forEach((element) => load(element));
    }
  });
})();
