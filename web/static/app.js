// Renkei Hub: the little script the pages use. Every page works without it; it adds the clock
// check, the live character counters, live progress bars for runs, and conveniences in forms.
(function () {
  "use strict";

  // Clock check (manual 付録2): compare this computer's clock with the server's. Exposed so
  // the check can be run again (the browser tests use it with a simulated skew).
  var body = document.body;
  var maxSkew = Number(body.getAttribute("data-max-skew")) || 300000;
  var checkClock = function (serverNow) {
    if (!serverNow) return null;
    // The page was rendered a moment ago; that delay is nothing next to five minutes.
    var skew = Date.now() - serverNow;
    var bad = Math.abs(skew) > maxSkew;
    var minutes = String(Math.round(Math.abs(skew) / 60000));
    var warn = document.getElementById("clock-warning");
    if (warn) {
      warn.textContent = bad ? warn.getAttribute("data-text").replace("{minutes}", minutes) : "";
      warn.hidden = !bad;
    }
    var cell = document.getElementById("clock-skew");
    if (cell) {
      var bt = document.getElementById("browser-time");
      // In Japan time, like the server's time above it.
      if (bt) {
        bt.textContent = new Date().toLocaleString(body.getAttribute("data-lang") === "en" ? "en-GB" : "ja-JP", {
          timeZone: "Asia/Tokyo", hour12: false
        });
      }
      cell.textContent = cell.getAttribute(bad ? "data-bad" : "data-ok").replace("{minutes}", minutes);
      cell.className = bad ? "field-error" : "";
    }
    return skew;
  };
  window.RenkeiHub = { checkClock: checkClock };
  checkClock(Number(body.getAttribute("data-server-now")));

  // Live "0 / 100" counters, counting characters as the server does (code points).
  document.querySelectorAll("input[data-counter]").forEach(function (input) {
    var max = Number(input.getAttribute("data-counter"));
    var out = document.getElementById("count-" + input.name);
    if (!out) return;
    var update = function () {
      var n = Array.from(input.value).length;
      out.textContent = n + " / " + max;
      out.classList.toggle("over", n > max);
    };
    input.addEventListener("input", update);
    update();
  });

  // Live progress (flow page and dashboard): a bar with counts, a percentage and an estimate when
  // the source told how many records there are (indeterminate otherwise), polled every second
  // until the run ends. 今すぐ実行 queues a run and follows it; a run already under way when the
  // page loaded is followed too (data-run).
  var refreshHistory = function () {
    var box = document.getElementById("recent-runs-box");
    if (!box) return;
    fetch(box.getAttribute("data-src") || location.pathname, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("recent-runs-box");
        if (fresh) box.innerHTML = fresh.innerHTML;
      });
  };
  var barOf = function (box) {
    var bar = box.querySelector("[role=progressbar]");
    if (bar) return bar;
    box.textContent = "";
    bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", box.getAttribute("data-bar-label"));
    bar.appendChild(document.createElement("span"));
    var text = document.createElement("span");
    text.className = "progress-text";
    box.appendChild(bar);
    box.appendChild(text);
    return bar;
  };
  var show = function (box, s) {
    var bar = barOf(box);
    var text = box.querySelector(".progress-text");
    box.setAttribute("data-status", s.status);
    if (s.finished) {
      bar.hidden = true;
      box.className = "progress " + (s.status === "success" ? "done-success" : "done-bad");
      text.textContent = s.status_label + " — " + s.progress;
      return;
    }
    bar.hidden = false;
    box.className = "progress running";
    var known = typeof s.percent === "number";
    bar.classList.toggle("indeterminate", !known);
    if (known) {
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      bar.setAttribute("aria-valuenow", String(s.percent));
      bar.firstChild.style.width = s.percent + "%";
    } else {
      bar.removeAttribute("aria-valuenow");
      bar.removeAttribute("aria-valuemax");
      bar.firstChild.style.width = "";
    }
    var words = [s.status_label + " — " + s.counts_label];
    if (known) words.push(s.percent + "%");
    if (s.eta_label) words.push(s.eta_label);
    text.textContent = words.join(" · ");
    bar.setAttribute("aria-valuetext", text.textContent);
  };
  var poll = function (url, box, button, failures) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (!s.status) throw new Error("no status");
        show(box, s);
        if (s.finished) {
          if (button) button.disabled = false;
          refreshHistory();
        } else {
          setTimeout(function () { poll(url, box, button, 0); }, 1000);
        }
      })
      .catch(function () {
        if (failures < 10) setTimeout(function () { poll(url, box, button, failures + 1); }, 1500);
      });
  };
  var runButton = function (flow) {
    var f = document.querySelector("form.run-now[data-flow='" + flow + "']");
    return f && f.querySelector("button");
  };
  document.querySelectorAll(".progress[data-run]").forEach(function (box) {
    if (!window.fetch) return;
    var button = runButton(box.id.replace(/^progress-/, ""));
    if (button) button.disabled = true;
    poll("/ui/runs/" + encodeURIComponent(box.getAttribute("data-run")) + "/status", box, button, 0);
  });
  document.querySelectorAll("form.run-now").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var box = document.getElementById("progress-" + form.getAttribute("data-flow"));
      if (!box || !window.fetch) return; // the plain form post still works
      ev.preventDefault();
      // A preview shown before describes the data as it was: stale once the run writes.
      var preview = document.getElementById("preview");
      if (preview) preview.remove();
      var button = form.querySelector("button");
      button.disabled = true;
      box.className = "progress";
      box.removeAttribute("data-status");
      box.textContent = box.getAttribute("data-queued-text");
      fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
        credentials: "same-origin"
      })
        .then(function (r) {
          return r.json().then(function (j) { return { ok: r.ok, body: j }; });
        })
        .then(function (res) {
          if (!res.ok) {
            throw new Error((res.body.error && res.body.error.message) || box.getAttribute("data-error-text"));
          }
          poll(res.body.status_url, box, button, 0);
        })
        .catch(function (e) {
          box.className = "progress done-bad";
          box.textContent = e.message || box.getAttribute("data-error-text");
          button.disabled = false;
        });
    });
  });

  // Flow editor: choosing a connection or object loads its lists (the 読み込む button).
  document.querySelectorAll("[data-autoreload]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var b = document.getElementById("flow-reload");
      if (b) b.click();
    });
  });
  // Flow editor, mapping rows: choosing a transform shows the inputs it needs, and the list of
  // the target's required fields follows the rows. Without script the inputs show after
  // 一覧を読み込む, which reloads the form.
  var showParams = function (row) {
    var kind = row.querySelector("select[name=map_kind]");
    if (!kind) return;
    row.querySelectorAll(".tf-param").forEach(function (p) {
      p.hidden = (p.getAttribute("data-kinds") || "").split(" ").indexOf(kind.value) < 0;
    });
  };
  var required = document.getElementById("required-fields");
  var updateRequired = function () {
    if (!required) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll("#mapping tr.map-row"));
    required.querySelectorAll("li[data-field]").forEach(function (li) {
      var field = li.getAttribute("data-field");
      var mapped = rows.some(function (r) {
        var to = r.querySelector("[name=map_to]"), kind = r.querySelector("[name=map_kind]");
        if (!to || to.value !== field) return false;
        if (kind && kind.value === "constant") return r.querySelector("[name=map_const]").value.trim() !== "";
        return r.querySelector("[name=map_from]").value !== "";
      });
      li.className = mapped ? "mapped" : "unmapped";
      li.querySelector(".state").textContent = required.getAttribute(mapped ? "data-mapped-text" : "data-unmapped-text");
    });
  };
  var mappingTable = document.getElementById("mapping");
  if (mappingTable) {
    mappingTable.addEventListener("change", function (ev) {
      var row = ev.target.closest && ev.target.closest("tr");
      if (row && ev.target.name === "map_kind") showParams(row);
      // The row's message was about what it held when the form was sent.
      if (row) {
        row.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
        row.querySelectorAll("[aria-invalid]").forEach(function (e) {
          e.removeAttribute("aria-invalid");
          e.removeAttribute("aria-describedby");
        });
      }
      updateRequired();
    });
    mappingTable.addEventListener("input", updateRequired);
  }
  // 行を追加 (mapping rows, CSV columns): a copy of the table's empty row, without reloading.
  document.querySelectorAll("button[data-add-row]").forEach(function (b) {
    var table = document.getElementById(b.getAttribute("data-add-row"));
    var tpl = document.getElementById(b.getAttribute("data-template"));
    if (!table || !tpl || !tpl.content || !table.tBodies[0]) return;
    b.addEventListener("click", function (ev) {
      ev.preventDefault();
      var row = tpl.content.querySelector("tr").cloneNode(true);
      table.tBodies[0].appendChild(row);
      row.querySelectorAll("button[data-remove-row]").forEach(function (x) { x.hidden = false; });
      var first = row.querySelector("select, input");
      if (first) first.focus();
    });
  });
  // 削除 on a row of such a table: the row goes (without script the button stays hidden, and a
  // row whose inputs are emptied is dropped when saved).
  document.querySelectorAll("button[data-remove-row], button[data-add-row]").forEach(function (b) { b.hidden = false; });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button[data-remove-row]");
    if (!b) return;
    ev.preventDefault();
    var row = b.closest("tr");
    if (row) row.remove();
  });
  var preset = document.querySelector("[data-cron-preset]");
  if (preset) {
    preset.addEventListener("change", function () {
      if (!preset.value) return;
      document.getElementById("cron").value = preset.value;
      var on = document.getElementById("schedule_on");
      if (on) on.checked = true;
    });
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
})();
