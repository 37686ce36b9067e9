// Charts of the weekly review, drawn from the figures the page embeds as JSON.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("review-charts");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const names = data.names;
  const blue = "#2563eb", grey = "#cbd5e1", green = "#047857", amber = "#f59e0b";
  const common = { responsive: true, maintainAspectRatio: false, animation: false };
  const draw = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) { canvas.parentElement.style.height = canvas.getAttribute("height") + "px"; new Chart(canvas, config); }
  };
  draw("chart-funnel", { type: "bar", options: { ...common, indexAxis: "y" }, data: {
    labels: data.funnel.labels,
    datasets: [{ label: names.count, data: data.funnel.counts, backgroundColor: blue },
               { label: names.ideal, data: data.funnel.ideal, backgroundColor: grey }] } });
  draw("chart-moves", { type: "bar", options: common, data: {
    labels: data.moves.labels,
    datasets: [{ label: names.share, data: data.moves.share, backgroundColor: blue },
               { label: names.ideal_share, data: data.moves.ideal, backgroundColor: grey }] } });
  draw("chart-trends", { type: "line", options: { ...common, scales: { y: { beginAtZero: true }, y2: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } }, data: {
    labels: data.trends.labels,
    datasets: [{ label: names.new_leads, data: data.trends.new_leads, borderColor: blue, tension: 0.3 },
               { label: names.signings, data: data.trends.signings, borderColor: green, tension: 0.3 },
               { label: names.amount, data: data.trends.amount, borderColor: amber, yAxisID: "y2", tension: 0.3 }] } });
});
