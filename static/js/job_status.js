// Live progress of a video job: poll its status every two seconds until it ends.
(function () {
  const box = document.getElementById("job");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const labels = {queued: "Queued", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled"};
  async function poll() {
    try {
      const response = await fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"});
      if (response.ok) {
        const s = await response.json();
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
        for (const [id, show] of [["cancel-form", active], ["retry-form", s.status === "failed" || s.status === "cancelled"]]) {
          const form = document.getElementById(id);
          if (form) form.hidden = !show;
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
        if (s.status === "done" || s.status === "failed" || s.status === "cancelled") return;
      }
    } catch (e) { /* the server restarts: keep polling */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
