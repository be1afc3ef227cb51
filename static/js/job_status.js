// Live progress of a video job (its page): status, stage, clips, error, controls and "why", until it ends.
(function () {
  const box = document.getElementById("job");
  if (!box) return;
  const labels = {queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled"};
  function show(s) {
    document.getElementById("job-status").textContent = labels[s.status] || s.status;
    // the stage only when it says more than the status ("Done done" said nothing)
    const quiet = ["done", "imported", "queued", "cancelled", s.status];
    document.getElementById("job-stage").textContent = quiet.includes(s.stage) ? "" : s.stage;
    const bar = document.getElementById("job-progress");
    bar.max = Math.max(s.clips_total, 1);
    bar.value = s.clips_done;
    document.getElementById("job-clips").textContent =
      `${s.clips_done} / ${s.clips_total} clip${s.clips_total === 1 ? "" : "s"}`;
    document.getElementById("job-error").textContent = s.error;
    const active = s.status === "queued" || s.status === "running";
    for (const [id, visible] of [["cancel-form", active], ["retry-form", s.status === "failed" || s.status === "cancelled"]]) {
      const form = document.getElementById(id);
      if (form) form.hidden = !visible;
    }
    const why = document.getElementById("why");
    if (why) {  // why the job kept fewer clips than its speech allows, and the one-click fix
      why.hidden = !s.why;
      document.getElementById("why-sentence").textContent = s.why ? s.why.sentence : "";
      const fix = document.getElementById("reprocess-suggested-form");
      if (fix) {
        fix.hidden = !(s.why && s.why.suggested_min_clip);
        if (!fix.hidden) {
          fix.querySelector("input[name=min_clip]").value = s.why.suggested_min_clip;
          document.getElementById("reprocess-suggested").textContent =
            `Reprocess with min_clip ${s.why.suggested_min_clip} s`;
        }
      }
    }
    if (s.started) {
      document.getElementById("job-time").textContent = `Started ${new Date(s.started).toLocaleString()}` +
        (s.took ? ` · ${s.finished ? "took" : "running for"} ${s.took}` : "");
    }
    const low = document.getElementById("low-clips");
    if (low && s.lowest.length) {  // the job finished while the page was open: no reload needed to see why
      const list = low.querySelector("ul");
      list.replaceChildren(...s.lowest.map((c) => {
        const li = document.createElement("li");
        li.innerHTML = `<a></a> <span class="score"></span>: <span class="why"></span>`;
        li.querySelector("a").href = c.url;
        li.querySelector("a").textContent = c.name;
        li.querySelector(".score").textContent = c.score.toFixed(1);
        li.querySelector(".why").textContent = c.reasons;
        return li;
      }));
      low.hidden = false;
    }
    return active;
  }
  window.pollStatus(box.dataset.statusUrl, 2000, show).start();
})();
