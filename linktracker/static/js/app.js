/* linktracker: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function announce(button, text) {
    var status = document.getElementById(button.getAttribute("aria-controls") || "");
    if (status) { status.textContent = text; }
    var label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = text === "Copied" ? "Copied ✓" : label;
    button.classList.toggle("copied", text === "Copied");
    window.clearTimeout(button._resetTimer);
    button._resetTimer = window.setTimeout(function () {
      button.textContent = label;
      button.classList.remove("copied");
      if (status) { status.textContent = ""; }
    }, 2500);
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  function copy(button) {
    var text = button.dataset.copy;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { announce(button, "Copied"); },
        function () { announce(button, fallbackCopy(text) ? "Copied" : "Press Ctrl+C"); }
      );
    } else {
      announce(button, fallbackCopy(text) ? "Copied" : "Press Ctrl+C");
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) { event.preventDefault(); copy(button); }
  });

  // Share dialogs that take only the link (LinkedIn, Facebook): copy the post text first, so
  // it can be pasted into the post; the dialog opens as the link does anyway.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-copy-first]");
    if (!link) { return; }
    var text = link.dataset.copyFirst;
    var status = document.getElementById(link.getAttribute("aria-controls") || "");
    var done = function () { if (status) { status.textContent = "Text and link copied: paste them into your post"; } };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { if (fallbackCopy(text)) { done(); } });
    } else if (fallbackCopy(text)) { done(); }
  });

  // QR codes: shown in a dialog (without JavaScript the link opens the image itself).
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.dialog);
      if (dialog && dialog.showModal) {
        event.preventDefault();
        dialog.showModal();
      }
      return;
    }
    var full = event.target.closest("[data-fullscreen]");
    if (full) {
      var box = full.closest("dialog");
      var on = !box.classList.contains("qr-full");
      box.classList.toggle("qr-full", on);
      full.textContent = on ? "Leave full screen" : "Full screen";
      if (on && box.requestFullscreen) { box.requestFullscreen().catch(function () {}); }
      if (!on && document.fullscreenElement) { document.exitFullscreen().catch(function () {}); }
    }
  });
  document.addEventListener("close", function (event) {
    var box = event.target;
    if (box.classList && box.classList.contains("qr-full")) {
      box.classList.remove("qr-full");
      var full = box.querySelector("[data-fullscreen]");
      if (full) { full.textContent = "Full screen"; }
      if (document.fullscreenElement) { document.exitFullscreen().catch(function () {}); }
    }
  }, true);
  // A click on the backdrop (outside the dialog's box) closes it.
  document.addEventListener("click", function (event) {
    if (event.target.matches && event.target.matches("dialog.qr-dialog[open]") &&
        !event.target.classList.contains("qr-full")) {
      var r = event.target.getBoundingClientRect();
      var inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
      if (!inside) { event.target.close(); }
    }
  });

  // Only one formula help open at a time; Escape closes it.
  document.addEventListener("toggle", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("details.formula-help") || !box.open) { return; }
    document.querySelectorAll("details.formula-help[open]").forEach(function (other) {
      if (other !== box) { other.open = false; }
    });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var open = event.target.closest && event.target.closest("details.formula-help[open]");
    if (open) { open.open = false; open.querySelector("summary").focus(); }
  });

  // My links: filter the campaigns by name and channel as one types.
  function filterLinks(input) {
    var words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    document.querySelectorAll(".campaign-card[data-search]").forEach(function (card) {
      var haystack = card.dataset.search.toLowerCase();
      var match = words.every(function (w) { return haystack.indexOf(w) !== -1; });
      card.hidden = !match;
      if (match) { shown += 1; }
    });
    document.querySelectorAll("details.link-group").forEach(function (group) {
      var any = group.querySelector(".campaign-card:not([hidden])");
      if (words.length && any) { group.open = true; }
      group.hidden = words.length > 0 && !any;
    });
    var status = document.getElementById("link-search-status");
    if (status) {
      status.textContent = !words.length ? "" : shown ? shown + " campaign" + (shown === 1 ? "" : "s") + " match" + (shown === 1 ? "es" : "") : "No campaign matches.";
    }
  }
  document.querySelectorAll("[data-link-search]").forEach(function (box) {
    box.hidden = false;
    var input = box.querySelector("input");
    input.addEventListener("input", function () { filterLinks(input); });
  });

  // Selecting the whole short link on focus makes manual copying one keystroke.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("input[data-select-all]")) { event.target.select(); }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });

  // Upload with a progress bar; without JavaScript the form posts normally.
  function uploadWithProgress(form) {
    var bar = form.querySelector(".progress");
    var fill = bar && bar.querySelector("span");
    var label = form.querySelector("[data-progress-label]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable || !fill) { return; }
      var pct = Math.round((e.loaded / e.total) * 100);
      fill.style.width = pct + "%";
      bar.setAttribute("aria-valuenow", String(pct));
      if (label) { label.textContent = pct < 100 ? "Uploading… " + pct + "%" : "Processing the file…"; }
    });
    xhr.addEventListener("load", function () {
      // A stored upload redirects to its own page (the mapping, or the refusal): load it
      // from the server, so that it has its address and survives a reload.
      if (xhr.responseURL && xhr.responseURL !== form.action) {
        window.location.assign(xhr.responseURL);
        return;
      }
      // Nothing was stored (no file, too large): show the form again with its messages.
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var main = document.querySelector("main");
      var answer = page.querySelector("main");
      if (main && answer) {
        main.replaceWith(document.importNode(answer, true));
      } else if (label) {
        label.textContent = "The upload failed (" + xhr.status + "). Try again.";
      }
    });
    xhr.addEventListener("error", function () {
      if (label) { label.textContent = "The upload failed. Check your connection and try again."; }
    });
    if (bar) { bar.hidden = false; }
    xhr.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.progress === undefined || event.defaultPrevented) { return; }
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    uploadWithProgress(form);
  });

  // Long-running posts (an import): say it is working and keep people from clicking twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.busy === undefined || event.defaultPrevented) { return; }
    var status = form.querySelector("[data-busy-label]");
    if (status) { status.hidden = false; }
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button").forEach(function (b) {
      window.setTimeout(function () { b.disabled = true; }, 0);
    });
  });

  // Sortable tables: click a column header button to sort by it.
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var raw = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
    var num = parseFloat(raw.replace(/[^0-9.\-]/g, ""));
    return raw !== "" && raw !== "—" && !isNaN(num) && /^[\s$€£%0-9.,\-]+$/.test(raw) ? num : raw.toLowerCase();
  }

  function sortTable(th) {
    var table = th.closest("table");
    var body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (other) {
      if (other.hasAttribute("aria-sort")) { other.setAttribute("aria-sort", "none"); }
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return !r.classList.contains("pinned"); });
    var pinned = Array.prototype.slice.call(body.rows).filter(function (r) { return r.classList.contains("pinned"); });
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x === y) { return 0; }
      if (typeof x === "number" && typeof y !== "number") { return -1; }
      if (typeof y === "number" && typeof x !== "number") { return 1; }
      return (x < y ? -1 : 1) * (ascending ? 1 : -1);
    });
    rows.concat(pinned).forEach(function (r) { body.appendChild(r); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("th button.sort");
    if (button) { sortTable(button.closest("th")); }
  });

  // Charts: <canvas data-chart='{"type":…, "labels":[…], "series":[{"label":…, "data":[…]}]}'>.
  var COLORS = ["#2456d6", "#0e9f6e", "#c2410c", "#7c3aed", "#0891b2"];
  function drawCharts() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = JSON.parse(canvas.dataset.chart);
      new window.Chart(canvas, {
        type: spec.type || "line",
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            return {
              label: s.label, data: s.data, borderColor: COLORS[i % COLORS.length],
              backgroundColor: COLORS[i % COLORS.length] + (spec.type === "bar" ? "cc" : "22"),
              fill: spec.type !== "bar", tension: 0.25, pointRadius: 2, yAxisID: s.axis || "y"
            };
          })
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: "index", intersect: false },
          scales: spec.scales || { y: { beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { legend: { position: "bottom" } }
        }
      });
    });
  }
  // Deferred scripts (the chart library among them) have all run by DOMContentLoaded.
  if (document.readyState !== "complete") { document.addEventListener("DOMContentLoaded", drawCharts); }
  else { drawCharts(); }
})();
