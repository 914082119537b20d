import type { ServiceCapabilities } from "../../db/services";
import { refreshingStats, StatsCache } from "../../services/volume/statsCache";

function reader(): { reads: number; read: () => Promise<ServiceCapabilities> } {
  const r = {
    reads: 0,
    read: async (): Promise<ServiceCapabilities> => {
      r.reads += 1;
      return { volume_backend_name: `read-${r.reads}`, pools: [] } as unknown as ServiceCapabilities;
    },
  };
  return r;
}

describe("StatsCache (backend_stats_polling_interval)", () => {
  it("reuses a reading until it is older than the interval", async () => {
    let now = 1_000_000;
    const r = reader();
    const cache = new StatsCache({ read: r.read, maxAgeSecs: 60, now: () => now });
    expect((await cache.get()).volume_backend_name).toBe("read-1");
    now += 59_999;
    expect((await cache.get()).volume_backend_name).toBe("read-1");
    now += 1;
    expect((await cache.get()).volume_backend_name).toBe("read-2");
    expect(r.reads).toBe(2);
  });

  it("reads again after invalidate()", async () => {
    const r = reader();
    const cache = new StatsCache({ read: r.read, maxAgeSecs: 60, now: () => 0 });
    await cache.get();
    cache.invalidate();
    expect((await cache.get()).volume_backend_name).toBe("read-2");
  });

  it("does not keep a reading that began before an invalidate()", async () => {
    let release!: () => void;
    let reads = 0;
    const cache = new StatsCache({
      read: async () => {
        reads += 1;
        if (reads === 1) {
          await new Promise<void>((res) => (release = res));
        }
        return { volume_backend_name: `read-${reads}`, pools: [] } as unknown as ServiceCapabilities;
      },
      maxAgeSecs: 60,
      now: () => 0,
    });
    const first = cache.get();
    cache.invalidate();
    release();
    expect((await first).volume_backend_name).toBe("read-1");
    expect((await cache.get()).volume_backend_name).toBe("read-2");
  });

  it("keeps nothing from a failed read", async () => {
    let fail = true;
    const cache = new StatsCache({
      read: async () => {
        if (fail) {
          throw new Error("vgs: host unreachable");
        }
        return { volume_backend_name: "ok", pools: [] } as unknown as ServiceCapabilities;
      },
      maxAgeSecs: 60,
      now: () => 0,
    });
    await expect(cache.get()).rejects.toThrow("host unreachable");
    fail = false;
    expect((await cache.get()).volume_backend_name).toBe("ok");
  });
});

describe("refreshingStats", () => {
  it("invalidates after each handler settles, resolved or rejected, and passes results through", async () => {
    let invalidated = 0;
    const handlers = refreshingStats(
      {
        create_volume: async (a) => `made ${String(a["volume_id"])}`,
        delete_volume: async () => {
          throw new Error("busy");
        },
      },
      { invalidate: () => (invalidated += 1) },
    );
    await expect(handlers["create_volume"]!({ volume_id: "v1" })).resolves.toBe("made v1");
    expect(invalidated).toBe(1);
    await expect(handlers["delete_volume"]!({})).rejects.toThrow("busy");
    expect(invalidated).toBe(2);
  });
});
