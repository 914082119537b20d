// A live chart (uPlot) of the copy rate of the running migrations: the sum of their rate_bps,
// sampled once a second from the store the live events keep current, over the last 5 minutes.
// The samples outlive the view (another view and back keeps the curve); a time the view was not
// shown is a gap.
import { html } from "htm/preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

const WINDOW_S = 300;
const xs = [];
const ys = [];

function sample(rate) {
  const now = Date.now() / 1000;
  if (xs.length && now - xs[xs.length - 1] > 2) {
    xs.push(xs[xs.length - 1] + 1);
    ys.push(null);
  }
  xs.push(now);
  ys.push(rate / 1e6);
  while (xs.length && xs[0] < now - WINDOW_S) {
    xs.shift();
    ys.shift();
  }
}

const clock = (s) => {
  const d = new Date(s * 1000);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
};

export function ThroughputChart({ rateRef }) {
  const box = useRef(null);
  useEffect(() => {
    const width = () => Math.max(240, box.current.clientWidth);
    const plot = new uPlot(
      {
        width: width(),
        height: 160,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          // Always the whole window, ending now.
          x: { time: true, range: () => [Date.now() / 1000 - WINDOW_S, Date.now() / 1000] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
        },
        axes: [
          { stroke: "#5b6775", space: 90, values: (_u, ticks) => ticks.map(clock) },
          { stroke: "#5b6775", size: 56, label: "MB/s" },
        ],
        series: [
          {},
          {
            label: "MB/s",
            stroke: "#2f6fd0",
            width: 2,
            fill: "rgba(47,111,208,0.12)",
            points: { show: false },
          },
        ],
      },
      [xs, ys],
      box.current,
    );
    const tick = () => {
      sample(rateRef.current);
      plot.setData([xs, ys]);
    };
    tick();
    const timer = setInterval(tick, 1000);
    const onResize = () => plot.setSize({ width: width(), height: 160 });
    addEventListener("resize", onResize);
    return () => {
      clearInterval(timer);
      removeEventListener("resize", onResize);
      plot.destroy();
    };
  }, []);
  return html`<figure class="chart">
    <div ref=${box} role="img" aria-label="Copy rate of the running migrations over the last 5 minutes"></div>
    <figcaption>Copy rate of the running migrations, last 5 minutes</figcaption>
  </figure>`;
}
