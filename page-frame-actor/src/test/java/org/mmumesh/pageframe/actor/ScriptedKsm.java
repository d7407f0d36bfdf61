package org.mmumesh.pageframe.actor;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.pageframe.FrameScanner;
import org.mmumesh.pageframe.PageFrames;

/**
 * A ksmd whose decisions a test scripts: KSM page operations ({@code write_protect_page}, {@code
 * replace_page}, ...) reach the frames only through the PageFrame's real KSM path, a {@link
 * PageFrame.KsmScan} batch run by its {@link FrameScanner} on its own core, answered after the
 * notifier round of what the batch invalidated. Each batch runs the next scripted step on the core;
 * {@link PageFrame.KsmScanned#visited()} is 1 when the step returned true, else 0. Shared with
 * vcpu-actor's tests through this module's test-jar.
 */
public final class ScriptedKsm {
  private final ConcurrentLinkedQueue<Predicate<PageFrames>> steps = new ConcurrentLinkedQueue<>();
  private long nextId = 1L << 40;

  /** The factory to give {@link PageFrame#create(PageFrame.Settings, Function, int)}. */
  public Function<PageFrames, FrameScanner> factory() {
    return Scanner::new;
  }

  /**
   * Runs {@code step} on {@code pageFrame}'s core as one KSM batch and returns its result, once the
   * batch's notifier round (if any) was acknowledged.
   */
  public boolean run(
      ActorTestKit kit, ActorRef<PageFrame.Command> pageFrame, Predicate<PageFrames> step) {
    steps.add(Objects.requireNonNull(step, "step"));
    TestProbe<PageFrame.KsmReply> reply = kit.createTestProbe();
    long id = nextId++;
    pageFrame.tell(new PageFrame.KsmScan(id, 1, reply.getRef()));
    PageFrame.KsmScanned done = reply.expectMessageClass(PageFrame.KsmScanned.class);
    if (done.requestId() != id) {
      throw new AssertionError("KsmScanned for " + done.requestId() + ", expected " + id);
    }
    return done.visited() == 1;
  }

  /** {@link PageFrames#makeKsmPage}: false when the core refused a page that moved on. */
  public static boolean makeKsmPage(PageFrames pf, int vm, long hvaPage, int pfn) {
    try {
      pf.makeKsmPage(vm, hvaPage, pfn);
      return true;
    } catch (IllegalStateException e) {
      return false; // checked before any change: the page was COW-broken or unmapped since
    }
  }

  private final class Scanner implements FrameScanner {
    private final PageFrames core;

    Scanner(PageFrames core) {
      this.core = core;
    }

    @Override
    public Batch scan(long maxPages) {
      Predicate<PageFrames> step = steps.poll();
      if (step == null) {
        throw new IllegalStateException("no scripted KSM step queued");
      }
      return new Batch(step.test(core) ? 1 : 0, false);
    }

    @Override
    public Passes runFullScans(int passes) {
      throw new UnsupportedOperationException("scripted: batches only");
    }

    @Override
    public void setRun(int run) {
      throw new UnsupportedOperationException("scripted: batches only");
    }

    @Override
    public int run() {
      return 1;
    }

    @Override
    public void setPagesToScan(long pages) {
      throw new UnsupportedOperationException("scripted: batches only");
    }

    @Override
    public long pagesToScan() {
      return 0; // the timer scans nothing
    }

    @Override
    public void setSleepMillisecs(long millis) {
      throw new UnsupportedOperationException("scripted: batches only");
    }

    @Override
    public long sleepMillisecs() {
      return 20;
    }

    @Override
    public void madvise(int vm, long hvaPage, long pages, boolean mergeable) {
      throw new UnsupportedOperationException("scripted: batches only");
    }

    @Override
    public Map<String, Long> counters() {
      return Map.of();
    }

    @Override
    public List<String> counterViolations() {
      return List.of();
    }
  }
}
