// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    button.textContent = "Copied";
  });
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

document.addEventListener("input", (event) => {
  document.querySelectorAll("[data-url-preview]").forEach((preview) => {
    if (!event.target.matches(preview.dataset.urlSource)) return;
    const name = event.target.value.trim().toLowerCase() || "<name>";
    preview.textContent = preview.dataset.urlPreview.replace("<name>", name);
  });
});
