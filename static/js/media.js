// Run page media panels: the step slider shows the images logged at that step.
document.addEventListener("input", (event) => {
  const slider = event.target.closest("[data-media-slider]");
  if (!slider) return;
  const panel = slider.closest("[data-media-panel]");
  const frames = panel.querySelectorAll("[data-media-frame]");
  const index = Number(slider.value);
  frames.forEach((frame, i) => {
    frame.hidden = i !== index;
  });
  panel.querySelector("[data-media-step]").textContent = frames[index].dataset.step;
});
