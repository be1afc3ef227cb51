// Draws the report's Plotly figures (JSON built on the server) and follows clicks: a point's or bar's
// customdata is the URL it opens (a clip's viewer, or the clip table narrowed to that bin).  A chart is drawn
// when it comes near the screen: a report of twenty charts shows its first ones without waiting for the rest.
(function () {
  "use strict";
  const config = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  const figures = new Map();
  function draw(el) {
    const figure = figures.get(el);
    Plotly.newPlot(el, figure.data, figure.layout, config).then(function () { el.dataset.ready = "1"; });
    el.on("plotly_click", function (event) {
      const point = event.points && event.points[0];
      const url = point && point.customdata;
      if (typeof url === "string" && url) window.location.href = url;
    });
  }
  const charts = document.querySelectorAll(".chart[data-figure]");
  charts.forEach(function (el) {  // each keeps its height before it is drawn, so the page is as long as it will be
    const figure = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    figures.set(el, figure);
    el.style.minHeight = `${(figure.layout && figure.layout.height) || 450}px`;
  });
  if (!("IntersectionObserver" in window)) { charts.forEach(draw); return; }
  const watcher = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      watcher.unobserve(entry.target);
      draw(entry.target);
    });
  }, {rootMargin: "400px 0px"});
  charts.forEach(function (el) { watcher.observe(el); });
})();
