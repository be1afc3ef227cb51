// Draws the report's Plotly figures (JSON built on the server) and follows clicks: a point's or bar's
// customdata is the URL it opens (a clip's viewer, or the clip table narrowed to that bin).
(function () {
  "use strict";
  const config = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    const figure = JSON.parse(document.getElementById(el.dataset.figure).textContent);
    Plotly.newPlot(el, figure.data, figure.layout, config).then(function () { el.dataset.ready = "1"; });
    el.on("plotly_click", function (event) {
      const point = event.points && event.points[0];
      const url = point && point.customdata;
      if (typeof url === "string" && url) window.location.href = url;
    });
  });
})();
