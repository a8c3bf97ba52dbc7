// The public gallery: a lightbox with keys (arrows, Esc) and swipes, and visitor uploads.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("gallery-data").textContent);
  var items = data.items;
  var box = document.getElementById("lightbox");
  var stage = document.getElementById("stage");
  var position = document.getElementById("position");
  var details = document.getElementById("details");
  var download = document.getElementById("download");
  var infoButton = document.getElementById("info");
  var current = -1;
  var lastFocus = null;

  // A page may give its own routes ("urls": {"preview": ".../{id}/..."}); else base/kind/id.
  function url(kind, id) {
    var route = data.urls && data.urls[kind];
    return route ? route.replace("{id}", id) : data.base + "/" + kind + "/" + id;
  }

  function preload(i) {
    if (i < 0 || i >= items.length || items[i].kind === "video") return;
    var img = new Image();
    img.src = url("preview", items[i].id);
  }

  function show(i) {
    if (!items.length) return;
    current = (i + items.length) % items.length;
    var item = items[current];
    stage.textContent = "";
    var el;
    if (item.kind === "video") {
      el = document.createElement("video");
      el.controls = true;
      el.playsInline = true;
      el.preload = "metadata";
      el.poster = url("preview", item.id);
      el.src = url("video", item.id);
    } else {
      el = document.createElement("img");
      el.alt = item.name;
      el.src = url("preview", item.id);
    }
    el.id = "current";
    stage.appendChild(el);
    position.textContent = (current + 1) + " / " + items.length;
    if (download) {
      download.href = url("original", item.id);
      download.setAttribute("download", item.name);
    }
    if (!details.hidden) loadInfo();
    preload(current + 1);
    preload(current - 1);
  }

  function open(i) {
    lastFocus = document.activeElement;
    box.hidden = false;
    document.body.style.overflow = "hidden";
    show(i);
    document.getElementById("close").focus();
  }

  function close() {
    box.hidden = true;
    stage.textContent = "";
    details.hidden = true;
    document.body.style.overflow = "";
    current = -1;
    if (lastFocus) lastFocus.focus();
  }

  function row(dl, label, value) {
    if (value === null || value === undefined || value === "") return;
    var dt = document.createElement("dt");
    dt.textContent = label;
    var dd = document.createElement("dd");
    dd.textContent = value;
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function loadInfo() {
    var id = items[current].id;
    fetch(url("meta", id), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (m) {
        if (!m || current < 0 || items[current].id !== id) return;
        details.textContent = "";
        var dl = document.createElement("dl");
        row(dl, "File", m.filename);
        row(dl, "Taken", m.taken_at ? m.taken_at.replace("T", " ") : null);
        row(dl, "Camera", [m.make, m.model].filter(Boolean).join(" "));
        row(dl, "Lens", m.lens);
        var exp = [];
        if (m.f_number) exp.push("f/" + m.f_number);
        if (m.exposure_time) exp.push(m.exposure_time < 1 ? "1/" + Math.round(1 / m.exposure_time) + " s" : m.exposure_time + " s");
        if (m.iso) exp.push("ISO " + m.iso);
        if (m.focal_length) exp.push(m.focal_length + " mm");
        row(dl, "Exposure", exp.join(" · "));
        row(dl, "Place", [m.city, m.country_name || m.country].filter(Boolean).join(", "));
        if (m.width && m.height) row(dl, "Size", m.width + " × " + m.height);
        details.appendChild(dl);
      });
  }

  document.getElementById("grid").addEventListener("click", function (e) {
    var a = e.target.closest("a.tile");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    open(parseInt(a.getAttribute("data-index"), 10));
  });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  document.getElementById("close").addEventListener("click", close);
  if (infoButton) {
    infoButton.addEventListener("click", function () {
      details.hidden = !details.hidden;
      if (!details.hidden) loadInfo();
    });
  }
  stage.addEventListener("click", function (e) { if (e.target === stage) close(); });

  // Album editors: take the shown photo out of the album (the photo stays in the library).
  var removeButton = document.getElementById("remove");
  if (removeButton && data.remove) {
    removeButton.addEventListener("click", function () {
      var item = items[current];
      if (!item || !window.confirm("Remove " + item.name + " from this album?")) return;
      fetch(data.remove, {
        method: "DELETE",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-Requested-With": "XMLHttpRequest" },
        body: JSON.stringify({ ids: [item.id] })
      }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        var index = items.indexOf(item);
        items.splice(index, 1);
        var tiles = document.querySelectorAll("#grid a.tile");
        tiles[index].parentNode.remove();
        document.querySelectorAll("#grid a.tile").forEach(function (a, i) {
          a.setAttribute("data-index", i);
        });
        var count = document.getElementById("item-count");
        if (count) count.textContent = items.length + (items.length === 1 ? " item" : " items");
        if (items.length) show(index); else close();
      }).catch(function (err) { window.alert("Could not remove the photo: " + err.message); });
    });
  }

  document.addEventListener("keydown", function (e) {
    if (box.hidden) return;
    if (e.key === "ArrowRight") { show(current + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { show(current - 1); e.preventDefault(); }
    else if (e.key === "Escape") { close(); e.preventDefault(); }
  });

  var startX = null, startY = 0;
  box.addEventListener("touchstart", function (e) {
    if (e.touches.length !== 1) { startX = null; return; }
    startX = e.touches[0].clientX;
    startY = e.touches[0].clientY;
  }, { passive: true });
  box.addEventListener("touchend", function (e) {
    if (startX === null) return;
    var dx = e.changedTouches[0].clientX - startX;
    var dy = e.changedTouches[0].clientY - startY;
    startX = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy) * 1.5) show(current + (dx < 0 ? 1 : -1));
    else if (dy > 90 && Math.abs(dy) > Math.abs(dx) * 1.5) close();
  });

  // Visitor uploads: one request per file, with progress; the page reloads when done.
  var input = document.getElementById("upload-input");
  var status = document.getElementById("upload-status");
  if (input) {
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files);
      if (!files.length) return;
      var done = 0, failed = [];
      status.hidden = false;
      function next() {
        if (done + failed.length >= files.length) {
          status.textContent = done + " of " + files.length + " added" +
            (failed.length ? "; not added: " + failed.join(", ") : "");
          input.value = "";
          if (done) setTimeout(function () { location.reload(); }, failed.length ? 2500 : 300);
          return;
        }
        var file = files[done + failed.length];
        var form = new FormData();
        form.append("file", file, file.name);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", data.base + "/upload");
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        xhr.upload.onprogress = function (ev) {
          if (ev.lengthComputable) {
            status.textContent = "Uploading " + file.name + " (" + (done + failed.length + 1) +
              " of " + files.length + ") " + Math.round(ev.loaded * 100 / ev.total) + "%";
          }
        };
        xhr.onload = function () {
          var ok = false, reason = "";
          try {
            var body = JSON.parse(xhr.responseText);
            var r = body.results && body.results[0];
            ok = xhr.status === 200 && r && (r.status === "created" || r.status === "duplicate");
            reason = r && r.error ? r.error : (body.message || "");
          } catch (err) { reason = "HTTP " + xhr.status; }
          if (ok) done += 1; else failed.push(file.name + (reason ? " (" + reason + ")" : ""));
          next();
        };
        xhr.onerror = function () { failed.push(file.name + " (connection lost)"); next(); };
        status.textContent = "Uploading " + file.name + "…";
        xhr.send(form);
      }
      next();
    });
  }
})();
