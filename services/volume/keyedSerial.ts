/**
 * Runs work one at a time per key (a volume id), in arrival order, within this process. A
 * repeated update_migrated_volume (sent again after a broker outage while the first was still
 * queued) must see the first one's rename in the rows, not race it to the driver and report the
 * temp's stale name.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    // The map holds only keys with work pending or running.
    void tail.then(() => this.tails.get(key) === tail && this.tails.delete(key));
    return run;
  }
}
