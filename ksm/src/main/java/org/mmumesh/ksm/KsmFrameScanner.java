package org.mmumesh.ksm;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.mmumesh.common.Checks;
import org.mmumesh.pageframe.FrameScanner;
import org.mmumesh.pageframe.PageFrames;

/**
 * The {@link FrameScanner} the actor mesh plugs into each host's {@code PageFrame} actor: a {@link
 * KsmScanner} on the actor's own {@link PageFrames} core, gated by the core's pending invalidations
 * ({@link PageFrames#invalidationPending}, see {@link WriteProtectGate}), so that a merge waits
 * until the host MMUs acknowledged the write-protect of its pages.
 *
 * <p>Why it runs inside the PageFrame actor is explained in {@link FrameScanner}: the trees and
 * rmap items live beside the frames they read synchronously. The controls ({@code run}, {@code
 * pages_to_scan}, {@code sleep_millisecs}) are the wrapped scanner's; the actor's timer reads them.
 *
 * <p>State: the wrapped scanner (cursor, trees, rmap items, counters of spec 7.5). Not thread-safe;
 * only the owning actor calls it.
 */
public final class KsmFrameScanner implements FrameScanner {
  private final KsmScanner scanner;

  /** A stopped scanner ({@code run} 0) over {@code pageFrames}, gated by its invalidations. */
  public KsmFrameScanner(PageFrames pageFrames) {
    Objects.requireNonNull(pageFrames, "pageFrames");
    this.scanner = new KsmScanner(pageFrames, pageFrames::invalidationPending);
  }

  /** The factory to give {@code PageFrame.create(settings, factory)} and its initSharding. */
  private KsmFrameScanner(KsmScanner scanner) {
    this.scanner = scanner;
  }

  /** ksmd's state for a checkpoint ({@link KsmScanner#checkpoint()}). Pure. */
  @Override
  public org.mmumesh.checkpoint.v1.KsmState checkpoint() {
    return scanner.checkpoint();
  }

  /** {@link #restore(org.mmumesh.checkpoint.v1.KsmState, PageFrames)}: the FrameScanner hook. */
  @Override
  public FrameScanner restoredOver(org.mmumesh.checkpoint.v1.KsmState state, PageFrames frames) {
    return restore(state, frames);
  }

  /**
   * A scanner holding {@code state} over {@code pageFrames} (the restored frames of the same
   * checkpoint), its merges gated on {@code pageFrames}' pending invalidations as {@link
   * #KsmFrameScanner(PageFrames)}'s are.
   *
   * @throws org.mmumesh.checkpoint.CheckpointMismatchException see {@link KsmScanner#restore}
   */
  public static KsmFrameScanner restore(
      org.mmumesh.checkpoint.v1.KsmState state, PageFrames pageFrames) {
    Objects.requireNonNull(pageFrames, "pageFrames");
    return new KsmFrameScanner(
        KsmScanner.restore(state, pageFrames, pageFrames::invalidationPending));
  }

  public static Function<PageFrames, FrameScanner> factory() {
    return KsmFrameScanner::new;
  }

  /** The wrapped scanner (read-only use by tests and diagnostics). */
  KsmScanner scanner() {
    return scanner;
  }

  @Override
  public Batch scan(long maxPages) {
    Checks.inRange("pages", maxPages, 0, KsmScanner.UINT_MAX);
    long visited = scanner.scanBatch(maxPages);
    return new Batch(visited, scanner.handshakePending());
  }

  @Override
  public Passes runFullScans(int passes) {
    int done = scanner.scanFullPasses(passes);
    return new Passes(done, scanner.handshakePending());
  }

  @Override
  public void setRun(int run) {
    scanner.setRun(run);
  }

  @Override
  public int run() {
    return scanner.run();
  }

  @Override
  public void setPagesToScan(long pages) {
    scanner.setPagesToScan(pages);
  }

  @Override
  public long pagesToScan() {
    return scanner.pagesToScan();
  }

  @Override
  public void setSleepMillisecs(long millis) {
    scanner.setSleepMillisecs(millis);
  }

  @Override
  public long sleepMillisecs() {
    return scanner.sleepMillisecs();
  }

  @Override
  public void madvise(int vm, long hvaPage, long pages, boolean mergeable) {
    if (mergeable) {
      scanner.madviseMergeable(vm, hvaPage, pages);
    } else {
      scanner.madviseUnmergeable(vm, hvaPage, pages);
    }
  }

  @Override
  public Map<String, Long> counters() {
    Map<String, Long> c = countersOf(scanner);
    c.put("handshake_rewinds", scanner.handshakeRewinds());
    c.put("handshakes_abandoned", scanner.handshakesAbandoned());
    return c;
  }

  @Override
  public List<String> counterViolations() {
    return scanner.counterViolations();
  }

  @Override
  public List<String> counterViolationsIncremental() {
    return scanner.counterViolationsIncremental();
  }

  /**
   * The counters every engine reports, named like {@code /sys/kernel/mm/ksm}: pages_shared,
   * pages_sharing, pages_unshared, pages_volatile, full_scans, pages_visited, rmap_items,
   * stable_nodes (in that order).
   */
  public static Map<String, Long> countersOf(KsmScanner s) {
    Map<String, Long> c = new LinkedHashMap<>();
    c.put("pages_shared", s.pagesShared());
    c.put("pages_sharing", s.pagesSharing());
    c.put("pages_unshared", s.pagesUnshared());
    c.put("pages_volatile", s.pagesVolatile());
    c.put("full_scans", s.fullScans());
    c.put("pages_visited", s.pagesVisited());
    c.put("rmap_items", s.rmapItems());
    c.put("stable_nodes", s.stableNodes());
    return c;
  }
}
