// Clip viewer: draws the chosen curves (fetched as JSON) with the quality mask as shaded bands, keeps a
// time cursor on every chart in step with the video, and seeks the video where a chart is clicked.
(function () {
  "use strict";
  const controls = document.getElementById("chart-controls");
  const video = document.getElementById("clip-video");
  // A clip without its own video plays the recording: clip time = the recording's time - offset
  const offset = parseFloat(video.dataset.offset || "0") || 0;
  const endAt = parseFloat(video.dataset.end || "") || null;
  const clipTime = () => Math.max((video.currentTime || 0) - offset, 0);
  const seekClip = (t) => { video.currentTime = t + offset; };
  const curvesEl = document.getElementById("curves-chart");
  const featuresEl = document.getElementById("features-chart");
  const picker = document.getElementById("curve-picker");
  const chips = document.getElementById("curve-chips");
  const headPose = new Set((controls.dataset.headPose || "").split(",").filter(Boolean));
  const rawBox = document.getElementById("show-raw");
  const fps = parseFloat(controls.dataset.fps) || 30;
  const config = {responsive: true, displaylogo: false};
  const margin = {t: 36, r: 10, b: 40, l: 60};
  let frameTimes = [];
  let charts = [];  // {el, cursor: index of the cursor shape}
  let lastCursor = null;

  const checked = (kind) => Array.from(picker.querySelectorAll(`input[name=${kind}]:checked`)).map((i) => i.value);

  // What is chosen, as chips one click removes (the groups may be closed or scrolled away)
  function showChips() {
    chips.replaceChildren(...[...checked("curve"), ...checked("feature")].map((name) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.name = name;
      chip.textContent = `${name} ×`;
      chip.title = "remove from the charts";
      return chip;
    }));
  }

  function frameAt(t) {  // the frame on screen at time t: the last one whose PTS is <= t
    let lo = 0, hi = frameTimes.length - 1;
    if (hi < 0 || t < frameTimes[0]) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (frameTimes[mid] <= t + 1e-6) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function bands(times, mask, face) {
    // Runs of masked (unusable) or interpolated frames as rectangles; frame i covers [t_i, t_i+1).
    const kind = (i) => (!mask[i] ? "masked" : (face[i] === false ? "interpolated" : null));
    const shapes = [];
    for (let i = 0; i < times.length;) {
      const k = kind(i);
      let j = i + 1;
      while (j < times.length && kind(j) === k) j++;
      if (k) {
        const end = j < times.length ? times[j] : times[j - 1] + 1 / fps;
        shapes.push({type: "rect", xref: "x", yref: "paper", x0: times[i], x1: end, y0: 0, y1: 1, layer: "below",
                     fillcolor: k === "masked" ? "#b3261e" : "#e0a100", opacity: 0.2, line: {width: 0}});
      }
      i = j;
    }
    return shapes;
  }

  const cursorShape = (t) => ({type: "line", xref: "x", yref: "paper", x0: t, x1: t, y0: 0, y1: 1,
                               line: {color: "#111", width: 2}});

  // Plotly draws HTML in trace names and titles: a column named like markup (an imported dataset's) shows as text
  function plotlyText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function curveTraces(data) {
    const traces = [];
    const palette = ["#2d5bd1", "#d1462d", "#1f7a3a", "#8a3ad1", "#d18f2d", "#2db3d1", "#5b6475", "#c42d8f"];
    Object.keys(data.curves).forEach((name, k) => {
      const color = palette[k % palette.length];
      const axis = headPose.has(name) ? "y2" : "y";  // degrees on their own axis: they would flatten 0-1 coefficients
      traces.push({type: "scatter", mode: "lines", name: plotlyText(name), x: data.time_s, y: data.curves[name],
                   legendgroup: name, yaxis: axis, line: {color: color, width: 1.8}});
      if (data.raw && data.raw[name]) {
        traces.push({type: "scatter", mode: "lines", name: plotlyText(name + " (raw)"), x: data.time_s, y: data.raw[name],
                     legendgroup: name, yaxis: axis, line: {color: color, width: 1, dash: "dot"}});
      }
    });
    return traces;
  }

  function featureFigure(data, shapes, end) {
    const names = Object.keys(data.features || {});
    const traces = [];
    const layout = {height: Math.max(220, 150 * names.length), margin: margin, showlegend: false, hovermode: "x",
                    title: {text: "Audio features at the frame times"}, shapes: shapes,
                    xaxis: {title: {text: "time in clip (s)"}, range: [0, end]}};
    const gap = 0.04, h = (1 - gap * (names.length - 1)) / Math.max(names.length, 1);
    layout.xaxis.anchor = "y" + (names.length > 1 ? String(names.length) : "");  // the time axis under the last row
    names.forEach((name, k) => {
      const axis = k === 0 ? "" : String(k + 1);
      const top = 1 - k * (h + gap);
      layout["yaxis" + axis] = {domain: [Math.max(top - h, 0), top], title: {text: plotlyText(name)}, fixedrange: true};
      const value = data.features[name];
      if (Array.isArray(value)) {
        traces.push({type: "scatter", mode: "lines", name: plotlyText(name), x: data.feature_time_s, y: value,
                     yaxis: "y" + axis, line: {color: "#2d5bd1", width: 1.5}});
      } else {
        traces.push({type: "heatmap", name: plotlyText(name), x: data.feature_time_s, z: value.z, yaxis: "y" + axis,
                     colorscale: "Viridis", showscale: false});
      }
    });
    return {traces: traces, layout: layout};
  }

  function bindClicks(el) {
    if (el.dataset.bound) return;
    el.dataset.bound = "1";
    el.on("plotly_click", (event) => {
      const point = event.points && event.points[0];
      if (!point || typeof point.x !== "number") return;
      seekClip(point.x);
      moveCursor(point.x, true);
    });
  }

  async function draw() {
    showChips();
    const params = new URLSearchParams({curves: checked("curve").join(","), features: checked("feature").join(",")});
    if (rawBox.checked) params.set("raw", "1");
    const response = await fetch(controls.dataset.curvesUrl + "?" + params, {credentials: "same-origin"});
    if (!response.ok) {
      let message = "the server said " + response.status;
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      curvesEl.textContent = "No curves: " + message + ".";
      curvesEl.classList.add("error");
      return;
    }
    const data = await response.json();
    frameTimes = data.time_s;
    const end = frameTimes.length ? frameTimes[frameTimes.length - 1] + 1 / fps : 1;
    const band = bands(data.time_s, data.mask, data.face);
    const t = clipTime();
    const traces = curveTraces(data);
    const layout = {height: 340, margin: margin, hovermode: "x", title: {text: "Blendshapes (after QC)"},
                    xaxis: {title: {text: "time in clip (s)"}, range: [0, end]}, yaxis: {title: {text: "coefficient"}},
                    shapes: band.concat([cursorShape(t)]), legend: {orientation: "h", y: -0.25}};
    if (traces.some((trace) => trace.yaxis === "y2")) {
      layout.yaxis2 = {title: {text: "head pose (°)"}, overlaying: "y", side: "right", zeroline: false};
      layout.margin = Object.assign({}, margin, {r: 60});
    }
    await Plotly.react(curvesEl, traces, layout, config);
    bindClicks(curvesEl);
    charts = [{el: curvesEl, cursor: band.length}];
    if (Object.keys(data.features || {}).length) {
      featuresEl.hidden = false;
      const fig = featureFigure(data, band.concat([cursorShape(t)]), end);
      await Plotly.react(featuresEl, fig.traces, fig.layout, config);
      bindClicks(featuresEl);
      charts.push({el: featuresEl, cursor: band.length});
    } else {
      Plotly.purge(featuresEl);
      featuresEl.hidden = true;
    }
    controls.dataset.ready = "1";
    moveCursor(t, true);
  }

  function moveCursor(t, force) {
    document.getElementById("clip-time").textContent = t.toFixed(3);
    document.getElementById("clip-frame").textContent = String(frameAt(t));
    if (!force && lastCursor !== null && Math.abs(t - lastCursor) < 0.001) return;
    lastCursor = t;
    charts.forEach((chart) => {
      const update = {};
      update["shapes[" + chart.cursor + "].x0"] = t;
      update["shapes[" + chart.cursor + "].x1"] = t;
      Plotly.relayout(chart.el, update);
      chart.el.dataset.cursor = t.toFixed(3);
    });
  }

  let following = false;  // one animation loop at a time, however often play fires
  function follow() {
    moveCursor(clipTime());
    following = !video.paused && !video.ended;
    if (following) requestAnimationFrame(follow);
  }

  video.addEventListener("play", () => { if (!following) { following = true; requestAnimationFrame(follow); } });
  function step(frames) {
    // Land a hair after the target frame's PTS, so the browser shows that frame and not the one before.
    if (!frameTimes.length) return;
    video.pause();
    const target = Math.min(Math.max(frameAt(clipTime()) + frames, 0), frameTimes.length - 1);
    seekClip(frameTimes[target] + 0.001);
    moveCursor(clipTime(), true);
  }

  // Tag and reject without a page reload, so the player keeps its place.
  const tagBox = document.getElementById("clip-tags");
  const rejectForm = document.getElementById("reject-form");
  const tagForm = document.getElementById("tag-form");
  async function update(fields) {
    const form = rejectForm || tagForm;
    const body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    const response = await fetch(tagBox.dataset.updateUrl, {method: "POST", body, credentials: "same-origin",
                                                            headers: {"Accept": "application/json"}});
    if (!response.ok) return;
    const state = await response.json();
    document.getElementById("rejected-flag").hidden = !state.rejected;
    const button = document.getElementById("reject-button");
    button.value = state.rejected ? "accept" : "reject";
    button.textContent = state.rejected ? "Accept again" : "Reject";
    tagBox.replaceChildren(...(state.tags.length ? state.tags.map((name) => {
      const pill = document.createElement("span");
      pill.className = "pill";
      pill.textContent = name + " ";
      const remove = document.createElement("button");
      remove.className = "link";
      remove.title = "remove tag";
      remove.textContent = "×";
      remove.addEventListener("click", () => update({action: "untag", tag: name}));
      pill.append(remove);
      return pill;
    }) : [document.createTextNode("none")]));
    tagBox.dataset.count = String(state.tags.length);
  }
  if (rejectForm) {
    rejectForm.addEventListener("submit", (event) => {
      event.preventDefault();
      update({action: document.getElementById("reject-button").value});
    });
    tagForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = tagForm.querySelector("input[name=tag]");
      if (input.value.trim()) update({action: "tag", tag: input.value.trim()});
      input.value = "";
      input.blur();
    });
    tagBox.querySelectorAll("form").forEach((form) => form.addEventListener("submit", (event) => {
      event.preventDefault();
      update({action: "untag", tag: form.querySelector("input[name=tag]").value});
    }));
  }

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea") || event.altKey || event.ctrlKey || event.metaKey) return;
    const go = (id) => { const link = document.getElementById(id); if (link) window.location.href = link.href; };
    if (event.key === "ArrowRight" || event.key === ".") { step(1); event.preventDefault(); }
    else if (event.key === "ArrowLeft" || event.key === ",") { step(-1); event.preventDefault(); }
    else if (event.key === " ") { if (video.paused) video.play(); else video.pause(); event.preventDefault(); }
    else if (event.key === "n" || event.key === "j") { go("next-clip"); event.preventDefault(); }
    else if (event.key === "p" || event.key === "k") { go("prev-clip"); event.preventDefault(); }
    else if (event.key === "r" && rejectForm) { rejectForm.requestSubmit(); event.preventDefault(); }
    else if (event.key === "t" && tagForm) { tagForm.querySelector("input[name=tag]").focus(); event.preventDefault(); }
  });
  video.addEventListener("seeked", () => moveCursor(clipTime(), true));
  video.addEventListener("timeupdate", () => {
    if (endAt !== null && video.currentTime >= endAt) video.pause();  // the clip ends before the recording does
    moveCursor(clipTime());
  });
  if (offset) video.addEventListener("loadedmetadata", () => seekClip(0), {once: true});
  [picker, rawBox].forEach((el) => el.addEventListener("change", draw));
  picker.addEventListener("click", (event) => {  // a group's "all" / "none"
    const button = event.target.closest("button.group-all, button.group-none");
    if (!button) return;
    event.preventDefault();  // inside <summary>: do not open or close the group
    const on = button.classList.contains("group-all");
    button.closest("details").querySelectorAll("input[type=checkbox]").forEach((box) => { box.checked = on; });
    draw();
  });
  chips.addEventListener("click", (event) => {
    const chip = event.target.closest("button.chip");
    if (!chip) return;
    const box = Array.from(picker.querySelectorAll("input[type=checkbox]")).find((b) => b.value === chip.dataset.name);
    if (box) box.checked = false;
    draw();
  });
  draw();
  const lipFigure = document.getElementById("lip-sync-figure");
  if (lipFigure) {  // the score of each offset against its null band (dashboard.clips.lip_sync_figure)
    const figure = JSON.parse(lipFigure.textContent);
    Plotly.newPlot(document.getElementById("lip-sync-chart"), figure.data, figure.layout, config);
  }
  document.body.dataset.viewerReady = "1";
})();
