// Printing a report (or saving it as PDF) lays it out at the paper's width, narrower than the
// screen: redraw its charts at that width while printing, then back at the page's. The width is
// an A4 page's between the margins of reports.css's @page, in CSS pixels (Letter is wider).
(() => {
  const PRINT_WIDTH = 660;

  function fit(printing) {
    if (!window.Plotly) return;
    document.querySelectorAll('.report [data-query-panel][data-drawn="1"]').forEach((element) => {
      const layout = printing ? { width: PRINT_WIDTH, autosize: false } : { width: null, autosize: true };
      window.Plotly.relayout(element, layout);
    });
  }

  // Browsers announce printing with beforeprint/afterprint; emulated print media (and some
  // browsers' print preview) only through the media query.
  window.matchMedia("print").addEventListener("change", (event) => fit(event.matches));
  window.addEventListener("beforeprint", () => fit(true));
  window.addEventListener("afterprint", () => fit(false));
})();
