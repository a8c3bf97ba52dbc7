// The upload page: sign in, pick photos and videos, hash them, skip what the server has, upload
// the rest with tus (resumable), show progress per file and in total.

import { sha1File } from "./sha1.js";
import { tusUpload, UploadError } from "./tus.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const CHUNK = Number(params.get("chunk")) || 8 * 1024 * 1024;
const CHECK_BATCH = 1000;

const items = [];
let queue = Promise.resolve();
let wakeLock = null;

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < units.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (_) { /* empty or not JSON */ }
  if (!response.ok) {
    const message = (data && data.message) || `the server answered ${response.status}`;
    const error = new UploadError(message, response.status);
    error.data = data;
    throw error;
  }
  return data;
}

function banner(text) {
  $("banner").textContent = text || "";
  $("banner").hidden = !text;
}

// ----- signing in ---------------------------------------------------------------------------

function showLogin(message) {
  $("uploader").hidden = true;
  $("who").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  $("email").focus();
}

function showUploader(user) {
  $("login").hidden = true;
  $("uploader").hidden = false;
  $("who").textContent = user.email;
  $("who").hidden = false;
  $("logout").hidden = false;
}

async function whoAmI() {
  try {
    showUploader(await api("GET", "/api/webapp/me"));
  } catch (e) {
    if (e.status === 401) showLogin();
    else banner(`Cannot reach the server: ${e.message}`);
  }
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("login-button").disabled = true;
  try {
    await api("POST", "/api/auth/login", { email: $("email").value.trim(), password: $("password").value });
    $("password").value = "";
    banner("");
    await whoAmI();
  } catch (e) {
    if ((e.data && e.data.secondFactorRequired) || e.status === 403) {
      // Two-factor accounts and provider-only servers sign in on the full login page.
      window.location.assign("/login?next=/upload/");
      return;
    }
    showLogin(e.status === 401 || e.status === 400 ? "Wrong email or password." : e.message);
  } finally {
    $("login-button").disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  try { await api("POST", "/api/auth/logout"); } catch (_) { /* signed out anyway */ }
  showLogin();
});

// ----- the list -----------------------------------------------------------------------------

function addItem(file) {
  const el = document.createElement("li");
  el.className = "item";
  el.innerHTML = '<div class="thumb"></div><div class="body"><div class="top"><span class="name">' +
    '</span><span class="size"></span></div><div class="state"></div>' +
    '<progress max="1" value="0"></progress></div>';
  if (/^image\//.test(file.type) && file.size < 30 * 1024 * 1024) {
    const img = document.createElement("img");
    img.alt = "";
    img.decoding = "async";
    img.loading = "lazy";
    img.src = URL.createObjectURL(file);
    img.onload = img.onerror = () => URL.revokeObjectURL(img.src);
    el.querySelector(".thumb").append(img);
  } else {
    el.querySelector(".thumb").textContent = /^video\//.test(file.type) ? "▶" : "";
  }
  el.querySelector(".name").textContent = file.name;
  el.querySelector(".size").textContent = fmtSize(file.size);
  $("list").append(el);
  const item = { file, el, sha1: null, status: "waiting", sent: 0 };
  items.push(item);
  setState(item, "waiting", "Waiting");
  return item;
}

function setState(item, status, text, fraction) {
  item.status = status;
  item.el.dataset.status = status;
  item.el.className = `item ${{ done: "done", duplicate: "done", skipped: "skipped", failed: "failed",
    rejected: "failed" }[status] || ""}`;
  item.el.querySelector(".state").textContent = text;
  const bar = item.el.querySelector("progress");
  bar.hidden = fraction === undefined;
  if (fraction !== undefined) bar.value = fraction;
  updateSummary();
}

function updateSummary() {
  const count = (...s) => items.filter((i) => s.includes(i.status)).length;
  const toSend = items.filter((i) => !["skipped"].includes(i.status));
  const total = toSend.reduce((a, i) => a + i.file.size, 0);
  const sent = toSend.reduce((a, i) => a + Math.min(i.sent, i.file.size), 0);
  const uploaded = count("done", "duplicate");
  const skipped = count("skipped");
  const refused = count("rejected");
  const failed = count("failed");
  const busy = count("waiting", "hashing", "checking", "queued", "uploading");
  $("summary").hidden = items.length === 0;
  $("retry").hidden = failed === 0 || busy > 0;
  const parts = [`${uploaded} uploaded`];
  if (skipped) parts.push(`${skipped} already on the server`);
  if (refused) parts.push(`${refused} not imported`);
  if (failed) parts.push(`${failed} failed`);
  const text = busy ? `Working: ${busy} left · ${parts.join(" · ")}` : `All done: ${parts.join(" · ")}`;
  $("summary-text").textContent = text;
  $("summary").dataset.state = busy ? "busy" : "done";
  const fraction = total ? sent / total : busy ? 0 : 1;
  $("total").value = fraction;
  $("summary-pct").textContent = `${Math.floor(fraction * 100)}% of ${fmtSize(total)}`;
}

// ----- the work -----------------------------------------------------------------------------

// SHA-1 in a module worker where the browser has them, else here (in slices either way).
let worker = null;
let workerBroken = false;
const waiting = new Map();
let nextJob = 0;

function hashInWorker(file, onProgress) {
  if (!worker) {
    worker = new Worker("hash-worker.js", { type: "module" });
    worker.onmessage = (event) => {
      const job = waiting.get(event.data.id);
      if (!job) return;
      if (event.data.sha1) { waiting.delete(event.data.id); job.resolve(event.data.sha1); }
      else if (event.data.error) { waiting.delete(event.data.id); job.reject(new Error(event.data.error)); }
      else job.onProgress(event.data.done);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      workerBroken = true;
      worker.terminate();
      worker = null;
      for (const job of waiting.values()) job.reject(new Error("worker failed"));
      waiting.clear();
    };
  }
  return new Promise((resolve, reject) => {
    const id = nextJob++;
    waiting.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, file });
  });
}

async function hashFile(file, onProgress) {
  if (!workerBroken && typeof Worker !== "undefined") {
    try {
      return await hashInWorker(file, onProgress);
    } catch (e) {
      if (!workerBroken) throw e;
    }
  }
  return sha1File(file, onProgress);
}

async function hashAll(batch) {
  for (const item of batch) {
    if (item.sha1) {
      setState(item, "checking", "Checking with the server…");
      continue;
    }
    setState(item, "hashing", "Computing checksum…", 0);
    try {
      item.sha1 = await hashFile(item.file, (done) =>
        setState(item, "hashing", "Computing checksum…", item.file.size ? done / item.file.size : 1));
      setState(item, "checking", "Checking with the server…");
    } catch (e) {
      setState(item, "failed", `Cannot read the file: ${e.message}`);
    }
  }
}

async function skipKnown(batch) {
  const ready = batch.filter((i) => i.status === "checking");
  for (let start = 0; start < ready.length; start += CHECK_BATCH) {
    const part = ready.slice(start, start + CHECK_BATCH);
    const body = { assets: part.map((item, n) => ({ id: String(n), checksum: item.sha1 })) };
    const answer = await api("POST", "/api/assets/bulk-upload-check", body);
    for (const result of answer.results || []) {
      const item = part[Number(result.id)];
      if (item && result.action === "reject") {
        item.sent = item.file.size;
        setState(item, "skipped", "Already on the server");
      }
    }
  }
  for (const item of ready) if (item.status === "checking") setState(item, "queued", "Queued", 0);
}

async function uploadOne(item) {
  setState(item, "uploading", "Uploading…", 0);
  const album = $("album").value.trim();
  try {
    const result = await tusUpload({
      endpoint: "/api/tus",
      file: item.file,
      sha1: item.sha1,
      chunkSize: CHUNK,
      metadata: { album, lastModified: item.file.lastModified },
      onProgress: (sent) => {
        item.sent = sent;
        const f = item.file.size ? sent / item.file.size : 1;
        setState(item, "uploading", `Uploading… ${Math.floor(f * 100)}%`, f);
      },
    });
    item.sent = item.file.size;
    if (result.status === "created") setState(item, "done", "Uploaded");
    else if (result.status === "duplicate") setState(item, "duplicate", "Uploaded (the server already had it)");
    else setState(item, "rejected", `Not imported: ${result.error || "the server refused the file"}`);
  } catch (e) {
    if (e.status === 401) {
      showLogin("Your session ended: sign in again, then pick the files again to continue.");
    }
    setState(item, "failed", `Upload failed: ${e.message}`);
  }
}

async function process(batch) {
  try {
    if ("wakeLock" in navigator) wakeLock = await navigator.wakeLock.request("screen").catch(() => null);
    await hashAll(batch);
    try {
      await skipKnown(batch);
    } catch (e) {
      if (e.status === 401) showLogin("Your session ended: sign in again.");
      for (const item of batch) if (item.status === "checking") setState(item, "failed", e.message);
      return;
    }
    for (const item of batch) if (item.status === "queued") await uploadOne(item);
  } finally {
    if (wakeLock) wakeLock.release().catch(() => {});
    wakeLock = null;
    updateSummary();
  }
}

function enqueue(batch) {
  queue = queue.then(() => process(batch)).catch((e) => banner(`Unexpected error: ${e.message}`));
}

$("files").addEventListener("change", () => {
  const files = Array.from($("files").files || []);
  $("files").value = "";
  if (files.length) enqueue(files.map(addItem));
});

$("retry").addEventListener("click", () => {
  const failed = items.filter((i) => i.status === "failed");
  for (const item of failed) { item.sent = 0; setState(item, "waiting", "Waiting"); }
  enqueue(failed);
});

$("clear").addEventListener("click", () => {
  for (let i = items.length - 1; i >= 0; i--) {
    if (!["waiting", "hashing", "checking", "queued", "uploading"].includes(items[i].status)) {
      items[i].el.remove();
      items.splice(i, 1);
    }
  }
  updateSummary();
});

document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => {
  e.preventDefault();
  if ($("uploader").hidden) return;
  const files = Array.from(e.dataTransfer.files).filter((f) => /^(image|video)\//.test(f.type));
  if (files.length) enqueue(files.map(addItem));
});

window.addEventListener("beforeunload", (e) => {
  if (items.some((i) => ["hashing", "checking", "queued", "uploading"].includes(i.status))) {
    e.preventDefault();
  }
});

if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("sw.js").catch(() => { /* the page works without it */ });
}

whoAmI();
