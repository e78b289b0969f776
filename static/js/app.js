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

function showUrlPreview(preview, input) {
  const name = input.value.trim().toLowerCase() || "<name>";
  preview.textContent = preview.dataset.urlPreview.replace("<name>", name);
}

document.addEventListener("input", (event) => {
  document.querySelectorAll("[data-url-preview]").forEach((preview) => {
    if (event.target.matches(preview.dataset.urlSource)) showUrlPreview(preview, event.target);
  });
});

// A name typed (or kept by the browser, or sent back with a form error) before this script ran.
document.querySelectorAll("[data-url-preview]").forEach((preview) => {
  const input = document.querySelector(preview.dataset.urlSource);
  if (input) showUrlPreview(preview, input);
});

// Runs table: select the page, then optionally every run matching the filter; bulk buttons
// follow the selection. State lives in the bulk form, so an htmx page swap starts clean.
function bulkState(form) {
  const boxes = [...form.querySelectorAll('input[name="run"]')];
  const checked = boxes.filter((box) => box.checked);
  const allInput = form.querySelector("[data-select-all-input]");
  const total = Number(form.dataset.total);
  const banner = form.querySelector("[data-select-all-banner]");
  const pageBox = form.querySelector("[data-select-page]");
  const wholePage = boxes.length > 0 && checked.length === boxes.length;
  if (!wholePage) allInput.value = "0";
  const all = allInput.value === "1";
  if (pageBox) pageBox.checked = wholePage;
  if (banner) {
    banner.hidden = !(wholePage && total > boxes.length);
    banner.querySelector("[data-banner-page]").hidden = all;
    banner.querySelector("[data-select-all]").hidden = all;
    banner.querySelector("[data-banner-all]").hidden = !all;
  }
  const count = all ? total : checked.length;
  form.querySelectorAll("[data-needs-selection]").forEach((button) => {
    const min = Number(button.dataset.minSelection || 1);
    const max = Number(button.dataset.maxSelection || Infinity);
    button.disabled = count < min || count > max;
  });
  // "10,000+" where the table counted only that far.
  const shown = all ? form.dataset.totalText || String(total) : String(count);
  const label = form.querySelector("[data-selection-count]");
  if (label) label.textContent = count ? `${shown} selected` : "";
  const summary = form.querySelector("[data-move-summary]");
  if (summary) summary.textContent = `${shown} run${count === 1 ? "" : "s"} selected.`;
}

// Buttons rendered enabled (so they work without JavaScript) start from the real selection.
function refreshBulkForms() {
  document.querySelectorAll("form#bulk").forEach(bulkState);
}
document.addEventListener("DOMContentLoaded", refreshBulkForms);
document.addEventListener("htmx:afterSettle", refreshBulkForms);

document.addEventListener("change", (event) => {
  const form = event.target.closest("form#bulk");
  if (!form) return;
  if (event.target.matches("[data-select-page]")) {
    form.querySelectorAll('input[name="run"]').forEach((box) => {
      box.checked = event.target.checked;
    });
  }
  if (event.target.matches("#move-target")) {
    form.querySelector("[data-new-project]").hidden = event.target.value !== "__new__";
  }
  bulkState(form);
});

document.addEventListener("click", (event) => {
  const form = event.target.closest("form#bulk");
  if (!form) return;
  if (event.target.matches("[data-select-all]")) {
    form.querySelector("[data-select-all-input]").value = "1";
    bulkState(form);
  } else if (event.target.matches("[data-clear-selection]")) {
    form.querySelectorAll('input[name="run"], [data-select-page]').forEach((box) => {
      box.checked = false;
    });
    bulkState(form);
  } else if (event.target.matches("[data-open-dialog]")) {
    const dialog = document.querySelector(event.target.dataset.openDialog);
    const target = dialog.querySelector("#move-target");
    dialog.querySelector("[data-new-project]").hidden = target.value !== "__new__";
    dialog.showModal();
  } else if (event.target.matches("[data-close-dialog]")) {
    event.target.closest("dialog").close();
  }
});

// The filter form's column picker applies as soon as a column is chosen.
document.addEventListener("change", (event) => {
  if (event.target.matches("#filters select")) event.target.form.requestSubmit();
});
