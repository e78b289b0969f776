// The runs query box: htmx fetches the fields and keys that fit the word at the cursor
// (the server parses the query, so it knows where a field may go); this file sends the cursor,
// lets arrows, Enter, Tab and clicks pick one, and puts it in place of the word.
(() => {
  const box = () => document.querySelector("[data-query-input]");
  const list = () => document.querySelector("#query-suggestions ul");
  const options = () => [...document.querySelectorAll("#query-suggestions [role=option]")];

  function close() {
    const container = document.querySelector("#query-suggestions");
    if (container) container.replaceChildren();
    const input = box();
    if (input) {
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
  }

  function highlight(index) {
    const all = options();
    all.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    const input = box();
    if (all[index]) input.setAttribute("aria-activedescendant", all[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  // The word the list was made for, in the box as it is now: typing may have gone on while the
  // list was on its way (more letters of the same word), so its end moves with what followed it.
  function wordSpan(input) {
    const { start, end, query } = list().dataset;
    const after = query.slice(Number(end));
    const unchanged = input.value.startsWith(query.slice(0, Number(start))) && input.value.endsWith(after);
    const span = { start: Number(start), end: input.value.length - after.length };
    return unchanged && span.end >= span.start ? span : null;
  }

  function pick(option) {
    const input = box();
    const span = wordSpan(input);
    if (!span) return close();
    const before = input.value.slice(0, span.start);
    input.value = before + option.dataset.insert + input.value.slice(span.end);
    const cursor = before.length + option.dataset.insert.length;
    input.focus();
    input.setSelectionRange(cursor, cursor);
    close();
  }

  document.addEventListener("htmx:configRequest", (event) => {
    if (event.target.matches("[data-query-input]")) {
      event.detail.parameters.at = event.target.selectionStart ?? event.target.value.length;
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id !== "query-suggestions") return;
    box().setAttribute("aria-expanded", String(options().length > 0));
  });

  document.addEventListener("keydown", (event) => {
    if (!event.target.matches("[data-query-input]") || !list()) return;
    const all = options();
    const current = all.findIndex((option) => option.getAttribute("aria-selected") === "true");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((current + step + all.length) % all.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && current >= 0) {
      event.preventDefault();
      pick(all[current]);
    } else if (event.key === "Escape" || event.key === "Enter") {
      close();
    }
  });

  // mousedown, not click: the box keeps its focus, so its blur does not close the list first.
  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest("#query-suggestions [role=option]");
    if (!option) return;
    event.preventDefault();
    pick(option);
  });

  document.addEventListener("focusout", (event) => {
    if (event.target.matches("[data-query-input]")) close();
  });
})();
