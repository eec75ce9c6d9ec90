// The site's script: sorting and filtering of the catalog tables (no library, no network, works from file://),
// and an accessible name for the theme's search dialog.
(function () {
  "use strict";

  function cellText(row, index) {
    const cell = row.cells[index];
    if (!cell) return "";
    const img = cell.querySelector("img");
    return (cell.textContent + " " + (img ? img.alt : "")).trim().toLowerCase();
  }

  function enhance(box) {
    const table = box.querySelector("table");
    if (!table || table.dataset.enhanced) return;
    table.dataset.enhanced = "1";
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const family = box.dataset.family || "function";

    const controls = document.createElement("div");
    controls.className = "am-catalog-controls";
    const label = document.createElement("label");
    label.textContent = "Filter ";
    const input = document.createElement("input");
    input.type = "search";
    input.placeholder = "name, alias, task, fact…";
    input.setAttribute("aria-label", "Filter the " + family + " table");
    label.appendChild(input);
    const count = document.createElement("span");
    count.className = "am-catalog-count";
    count.setAttribute("aria-live", "polite");
    controls.append(label, count);
    box.insertBefore(controls, box.firstChild);

    function filter() {
      const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      rows.forEach(function (row) {
        const text = row.dataset.text || (row.dataset.text = Array.from(row.cells).map(function (_, i) {
          return cellText(row, i);
        }).join(" "));
        const ok = words.every(function (w) { return text.includes(w); });
        row.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    input.addEventListener("input", filter);

    Array.from(table.tHead.rows[0].cells).forEach(function (th, index) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.from(table.tHead.rows[0].cells).forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.slice().sort(function (a, b) {
          const x = cellText(a, index), y = cellText(b, index);
          return (ascending ? 1 : -1) * x.localeCompare(y, undefined, { numeric: true });
        }).forEach(function (row) { body.appendChild(row); });
      });
    });
    filter();
  }

  function start() {
    document.querySelectorAll(".am-catalog").forEach(enhance);
    // the theme's search dialog has no accessible name
    document.querySelectorAll('.md-search[role="dialog"]:not([aria-label])').forEach(function (dialog) {
      dialog.setAttribute("aria-label", "Search the site");
    });
  }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(start);  // Material's page-load stream (also after instant navigation)
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
