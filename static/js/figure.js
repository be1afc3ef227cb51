// Draws the Plotly figure a page carries as JSON (json_script id "X-figure") into the element "X-chart".
(function () {
  "use strict";
  document.querySelectorAll('script[type="application/json"][id$="-figure"]').forEach((node) => {
    const chart = document.getElementById(node.id.replace(/-figure$/, "-chart"));
    if (!chart || typeof Plotly === "undefined") return;
    const figure = JSON.parse(node.textContent);
    Plotly.newPlot(chart, figure.data, figure.layout, {displaylogo: false, responsive: true});
  });
})();
