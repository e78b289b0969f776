// Run page media panels: the step slider asks the server for the panel at the chosen step (one
// step at a time, so a run with thousands of media steps loads as fast as one with a single step).
const MEDIA_DELAY_MS = 120;

document.addEventListener("input", (event) => {
  const slider = event.target.closest("[data-media-slider]");
  if (!slider) return;
  const panel = slider.closest("[data-media-panel]");
  const steps = JSON.parse(panel.dataset.steps);
  const step = steps[Number(slider.value)];
  panel.querySelector("[data-media-step]").textContent = step;
  clearTimeout(panel.mediaTimer);
  panel.mediaTimer = setTimeout(() => {
    const frame = panel.querySelector("[data-media-frame]");
    htmx
      .ajax("GET", `${panel.dataset.mediaUrl}&step=${step}`, { target: frame, swap: "innerHTML" })
      .then(() => {
        frame.dataset.step = step;
      });
  }, MEDIA_DELAY_MS);
});
