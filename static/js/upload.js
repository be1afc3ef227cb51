// Resumable uploads (tus 1.0): chunks of 8 MB, resumed after a dropped connection or a page reload.
// The upload URL of each file is remembered in localStorage under the file's name, size and date.
(function () {
  const zone = document.getElementById("upload");
  if (!zone) return;
  const createUrl = zone.dataset.createUrl;
  const chunkSize = parseInt(zone.dataset.chunkBytes, 10);
  const input = document.getElementById("upload-input");
  const list = document.getElementById("upload-list");
  const csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  function b64(text) { return btoa(unescape(encodeURIComponent(text))); }
  function fileKey(file) { return `tus:${createUrl}:${file.name}:${file.size}:${file.lastModified}`; }

  function row(file) {
    for (const old of list.querySelectorAll("li.upload-row.failed")) {  // the same file chosen again: a new try
      if (old.querySelector(".name").textContent === file.name) old.remove();
    }
    const li = document.createElement("li");
    li.className = "upload-row";
    li.innerHTML = `<span class="name"></span> <progress max="100" value="0"></progress> <span class="state">waiting</span>`;
    li.querySelector(".name").textContent = file.name;
    list.appendChild(li);
    return {
      progress(done) { li.querySelector("progress").value = Math.floor(100 * done / file.size);
                       li.querySelector(".state").textContent = `${(100 * done / file.size).toFixed(0)}%`; },
      state(text, cls) { const s = li.querySelector(".state"); s.textContent = text; if (cls) li.classList.add(cls); },
      link(url) {
        const s = li.querySelector(".state");
        s.innerHTML = `uploaded — <a>processing</a>`;
        s.querySelector("a").href = url;
        li.classList.add("done");
        document.dispatchEvent(new CustomEvent("video-uploaded"));  // the page's video list follows it (video_list.js)
      },
      // The same file is already in this dataset: say where and when, and let the user skip it or keep both.
      duplicate(of, ofUrl, keepUrl, uploadUrl) {
        const s = li.querySelector(".state");
        s.innerHTML = `already in this dataset: <a class="dup-of"></a> <button class="link keep">keep both</button> <button class="link skip">skip it</button>`;
        s.querySelector(".dup-of").textContent = of;
        s.querySelector(".dup-of").href = ofUrl;
        li.classList.add("duplicate");
        s.querySelector(".keep").addEventListener("click", async () => {
          const r = await fetch(keepUrl, {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf}});
          if (r.ok) this.link((await r.json()).video_url); else this.state(`server said ${r.status}`, "failed");
        });
        s.querySelector(".skip").addEventListener("click", async () => {
          await fetch(uploadUrl, {method: "DELETE", credentials: "same-origin",
                                  headers: {"Tus-Resumable": "1.0.0", "X-CSRFToken": csrf}});
          this.state("skipped: not uploaded twice", "skipped");
        });
      },
    };
  }

  function params() {
    const form = document.getElementById("upload-params");
    const pairs = [];
    for (const el of form.elements) { if (el.name && el.value !== "") pairs.push(`${el.name} ${b64(el.value)}`); }
    return pairs;
  }

  async function create(file) {
    const meta = [`filename ${b64(file.name)}`, ...params()].join(",");
    const r = await fetch(createUrl, {method: "POST", credentials: "same-origin",
      headers: {"Tus-Resumable": "1.0.0", "Upload-Length": String(file.size), "Upload-Metadata": meta, "X-CSRFToken": csrf}});
    if (r.status !== 201) throw new Error((await r.json()).error || `server said ${r.status}`);
    return r.headers.get("Location");
  }

  async function offsetOf(url) {
    const r = await fetch(url, {method: "HEAD", credentials: "same-origin", headers: {"Tus-Resumable": "1.0.0"}});
    if (r.status !== 200) return null;
    return parseInt(r.headers.get("Upload-Offset"), 10);
  }

  async function send(file, ui) {
    const key = fileKey(file);
    let url = localStorage.getItem(key);
    let offset = url ? await offsetOf(url) : null;
    if (offset === null) { url = await create(file); offset = 0; localStorage.setItem(key, url); }
    else ui.state(`resuming at ${(100 * offset / file.size).toFixed(0)}%`);
    let failures = 0;
    while (offset < file.size) {
      const chunk = file.slice(offset, Math.min(offset + chunkSize, file.size));
      let r;
      try {
        r = await fetch(url, {method: "PATCH", credentials: "same-origin", body: chunk,
          headers: {"Tus-Resumable": "1.0.0", "Upload-Offset": String(offset), "X-CSRFToken": csrf,
                    "Content-Type": "application/offset+octet-stream"}});
      } catch (e) {  // connection dropped: wait, ask where the server is, go on from there
        if (++failures > 20) throw new Error("the connection keeps dropping; reload the page to resume");
        await new Promise((ok) => setTimeout(ok, Math.min(1000 * failures, 10000)));
        const known = await offsetOf(url).catch(() => null);
        if (known !== null) offset = known;
        continue;
      }
      if (r.status === 204) {
        failures = 0;
        offset = parseInt(r.headers.get("Upload-Offset"), 10);
        ui.progress(offset);
        if (offset >= file.size) {
          localStorage.removeItem(key);
          if (r.headers.get("X-Keep-URL")) {
            ui.duplicate(r.headers.get("X-Duplicate-Of"), r.headers.get("X-Duplicate-URL"), r.headers.get("X-Keep-URL"), url);
          } else ui.link(r.headers.get("X-Video-URL"));
          return;
        }
      } else if (r.status === 409 && r.headers.get("Upload-Offset")) {
        offset = parseInt(r.headers.get("Upload-Offset"), 10);
      } else {
        localStorage.removeItem(key);
        let message = `server said ${r.status}`;
        try { message = (await r.json()).error || message; } catch (e) { /* not JSON */ }
        throw new Error(message);
      }
    }
  }

  async function start(files) {
    for (const file of files) {
      const ui = row(file);
      try { await send(file, ui); } catch (e) { ui.state(e.message, "failed"); }
    }
  }

  // The input is emptied once its files are taken, so choosing the same file again (after a refusal, with
  // other settings) is a change the browser reports.
  function take() { const files = Array.from(input.files); input.value = ""; start(files); }
  input.addEventListener("change", take);
  // Files chosen before this (deferred) script ran fired their change event with nobody listening:
  // start them now rather than sit there doing nothing.
  if (input.files.length) take();
  zone.dataset.ready = "1";
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); start(Array.from(e.dataTransfer.files)); });
})();
