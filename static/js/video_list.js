// The dataset page's list of source videos follows their jobs: states and clip counts every 3 s while
// one is queued or running; when one finishes, the page reloads so the clip table and "why" lines follow.
(function () {
  const list = document.getElementById("videos");
  if (!list) return;
  const active = (status) => status === "queued" || status === "running";
  const rows = () => Array.from(list.querySelectorAll("li[data-video]"));
  if (!rows().some((li) => active(li.dataset.status))) return;
  async function poll() {
    try {
      const response = await fetch(list.dataset.statusUrl, {credentials: "same-origin"});
      if (response.ok) {
        const data = await response.json();
        let finished = false;
        for (const v of data.videos) {
          const li = list.querySelector(`li[data-video="${v.id}"]`);
          if (!li) continue;
          if (active(li.dataset.status) && !active(v.status)) finished = true;
          li.dataset.status = v.status;
          const pill = li.querySelector(".pill");
          pill.className = `pill ${v.status}`;
          pill.textContent = v.label;
          li.querySelector(".clip-count").textContent =
            `${v.clips_done}/${v.clips_total} clip${v.clips_total === 1 ? "" : "s"}`;
        }
        if (finished) { location.reload(); return; }
        if (!data.videos.some((v) => active(v.status))) return;
      }
    } catch (e) { /* the server restarts: keep polling */ }
    setTimeout(poll, 3000);
  }
  setTimeout(poll, 3000);
})();
