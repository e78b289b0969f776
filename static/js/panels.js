// Workspace panels (scatter, parallel coordinates, bar, correlation): the server sends each
// figure as JSON (runs/panel_figures.py); this draws them with Plotly and the site's config.
// Clicking a scatter point opens that run's page.
(() => {
  function draw(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-query-panel]:not([data-drawn])").forEach((element) => {
      const source = document.getElementById(element.dataset.figure);
      if (!source) return;
      const figure = JSON.parse(source.textContent);
      element.dataset.drawn = "0";
      window.plotlyFor(figure.data).then((Plotly) => {
        const drawn = Plotly.newPlot(element, figure.data, figure.layout, window.PLOTLY_CONFIG);
        // newPlot gives the element its event methods at once.
        if (element.hasAttribute("data-click-through")) {
          element.on("plotly_click", (event) => {
            const point = event.points && event.points[0];
            if (point && typeof point.customdata === "string") window.location.assign(point.customdata);
          });
        }
        return drawn;
      }).then(() => {
        element.dataset.drawn = "1";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => draw(document));
  // The table's filters swap in new panels (out of band, with the table): draw the new ones.
  document.addEventListener("htmx:afterSettle", () => draw(document));
})();
