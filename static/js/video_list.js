// The dataset page's list of source videos follows their jobs (states, clip counts, why few clips were kept)
// every 3 s while one is queued or running, and picks up videos uploaded from this page meanwhile; when the
// dataset has more clips than the table shows, it offers to refresh the table (never reloads by itself).
(function () {
  const list = document.getElementById("videos");
  if (!list) return;
  const active = (status) => status === "queued" || status === "running";
  const rowOf = (id) => list.querySelector(`li[data-video="${id}"]`);
  const banner = document.getElementById("new-clips");
  const shownClips = banner ? parseInt(banner.dataset.clips, 10) : 0;

  function newRow(v) {
    const li = document.createElement("li");
    li.dataset.video = v.id;
    li.innerHTML = `<a></a> <span class="pill"></span> <span class="clip-count"></span> <span class="why-line"></span>`;
    li.querySelector("a").href = v.url;
    li.querySelector("a").textContent = v.name;
    const empty = list.querySelector("li.empty");
    if (empty) empty.remove();
    list.appendChild(li);
    return li;
  }

  function update(data) {
    for (const v of data.videos) {
      const li = rowOf(v.id) || newRow(v);
      li.dataset.status = v.status;
      const pill = li.querySelector(".pill");
      pill.className = `pill ${v.status}`;
      pill.textContent = v.label;
      li.querySelector(".clip-count").textContent =
        `${v.clips_done}/${v.clips_total} clip${v.clips_total === 1 ? "" : "s"}`;
      if (v.why && !li.querySelector(".why")) {
        const why = document.createElement("span");
        why.className = "why";
        why.textContent = v.why;
        li.appendChild(document.createElement("br"));
        li.appendChild(why);
      }
    }
    if (banner && data.clips !== shownClips) {
      banner.hidden = false;
      const more = data.clips - shownClips;
      banner.querySelector(".what").textContent = more > 0
        ? `${more} new clip${more === 1 ? "" : "s"} since this table was drawn.` : "The clips changed since this table was drawn.";
    }
    return data.videos.some((v) => active(v.status));
  }

  const poller = window.pollStatus(list.dataset.statusUrl, 3000, update);
  if (Array.from(list.querySelectorAll("li[data-video]")).some((li) => active(li.dataset.status))) poller.start();
  document.addEventListener("video-uploaded", () => poller.wake());  // upload.js: a new video's job is queued
})();
