// Numbers for people: sizes, rates, durations, times.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function bytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) {
    return "–";
  }
  let v = Number(n);
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${v.toFixed(v >= 100 || u === 0 ? 0 : 1)} ${UNITS[u]}`;
}

export function gb(n) {
  return n === null || n === undefined
    ? "–"
    : `${Number(n).toLocaleString("en", { maximumFractionDigits: 1 })} GB`;
}

/** Bytes per second as MB/s (10^6, as dd and the clients print it). */
export function rate(bps) {
  if (bps === null || bps === undefined) {
    return "–";
  }
  return `${(bps / 1e6).toFixed(bps >= 1e8 ? 0 : 1)} MB/s`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) {
    return "–";
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  }
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Milliseconds of an API time; Cinder's own times carry no zone and are UTC. */
export function parseTime(iso) {
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
}

/** Seconds between two API times (or until now while `to` is null). */
export function between(from, to) {
  if (!from) {
    return null;
  }
  return ((to ? parseTime(to) : Date.now()) - parseTime(from)) / 1000;
}

export function time(iso) {
  if (!iso) {
    return "–";
  }
  const d = new Date(parseTime(iso));
  if (Number.isNaN(d.getTime())) {
    return iso;
  }
  const two = (n) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

export function percent(p) {
  return p === null || p === undefined ? "–" : `${Number(p).toFixed(p >= 100 ? 0 : 1)} %`;
}

export function shortId(id) {
  return id ? id.slice(0, 8) : "–";
}
