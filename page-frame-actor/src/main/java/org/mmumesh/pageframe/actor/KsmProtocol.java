package org.mmumesh.pageframe.actor;

import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * ksmd of the host, the one KSM protocol (spec section 7; design: docs/design.md, "KSM"): its
 * controls ({@code /sys/kernel/mm/ksm/run}, {@code pages_to_scan}, {@code sleep_millisecs}), {@code
 * madvise}, lockstep stepping and its counters, all answered by the host's {@link PageFrame}
 * entity, which owns ksmd's schedule (a timer every {@code sleep_millisecs} while {@code run} is 1)
 * and runs the {@link FrameScanner} (the trees and rmap items) on its own core, beside the frames
 * it reads synchronously. Handled by {@link KsmShell}.
 *
 * <p><b>The merge handshake</b> ("write-protect first, remap after the host MMUs confirm that no
 * writable mapping remains"): with a scanner the core tracks invalidations of VMs that have
 * subscribers ({@link PageFrames#trackInvalidations}); a scan that write-protected a writable page
 * for a merge stops early, its events go out as a notifier round, and the scan goes on with the
 * rest of its budget when the round is acknowledged (after {@link
 * PageFrames#completeInvalidations()}), re-processing the page and merging it only if its content
 * is still the same. A round that ends by its ack timeout counts as complete (with the warning and
 * counters of {@link FaultProtocol}). Meanwhile other commands wait in the stash, so every reply
 * (counters included) describes ksmd between wake-ups. Without a scanner every command is answered
 * {@link PageFrame.Rejected} with {@link PageFrame#NO_SCANNER}. Bad values (and {@link KsmScan} or
 * {@link KsmFullScans} while {@code run} is not 1) are rejected naming the field and its range;
 * nothing changes then, not even a counter. {@link KsmSetRun}, {@link KsmMadvise}, {@link
 * KsmFullScans} and {@link KsmScan} remember their reply: a retry with the same requestId is
 * answered from memory without running again.
 */
public interface KsmProtocol {
  /**
   * Writes {@code run}: 0 stop (merges stay), 1 merge (starts the timer and wakes ksmd at once), 2
   * stop and unmerge every KSM page (its COW breaks go through notifier rounds). Answered {@link
   * KsmControlDone} after the acks.
   */
  public record KsmSetRun(long requestId, int run, ActorRef<KsmReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /** Writes {@code pages_to_scan} (0 to {@link PageFrame#UINT_MAX}); answered at once. */
  public record KsmSetPagesToScan(long requestId, long pages, ActorRef<KsmReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * Writes {@code sleep_millisecs} (1 to {@link PageFrame#UINT_MAX}): the timer's period; a running
   * timer restarts with it. Answered at once.
   */
  public record KsmSetSleepMillisecs(long requestId, long millis, ActorRef<KsmReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * {@code madvise(MADV_MERGEABLE / MADV_UNMERGEABLE)} of host pages {@code [hvaPage, hvaPage +
   * pages)} of VM {@code vm}. Answered {@link KsmControlDone} (after the acks of the COW breaks of
   * an unmerge).
   */
  public record KsmMadvise(
      long requestId,
      int vm,
      long hvaPage,
      long pages,
      boolean mergeable,
      ActorRef<KsmReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * Lockstep stepping: runs {@code passes} (0 to {@link Integer#MAX_VALUE}) whole passes now,
   * handshakes included, then answers {@link KsmFullScansDone}. Needs {@code run} 1.
   */
  public record KsmFullScans(long requestId, int passes, ActorRef<KsmReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * Lockstep stepping by simulated time: one ksmd wake-up now ({@code ksm_do_scan} of {@code pages}
   * pages, 1 to {@link PageFrame#UINT_MAX}), continued past merge handshakes until the budget is
   * spent or the pass ends the batch, exactly as a timer tick's batch; answered {@link KsmScanned}.
   * Needs {@code run} 1. A client that paces ksmd this way sets {@code pages_to_scan} 0 so the
   * timer scans nothing in between.
   */
  public record KsmScan(long requestId, long pages, ActorRef<KsmReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /** ksmd's counters, its controls and its counter violations. Read-only. */
  public record GetKsmCounters(long requestId, ActorRef<KsmReply> replyTo)
      implements PageFrame.Command {}

  /** What a KSM command's requester receives. */
  public sealed interface KsmReply extends PageFrame.Reply
      permits KsmScanned,
          KsmControlDone,
          KsmFullScansDone,
          KsmCounters,
          PageFrame.Rejected,
          PageFrame.Failed {}

  /**
   * The answer to {@link KsmScan}, after the acks of every notifier event of the wake-up.
   *
   * @param visited pages visited (fewer than asked when the pass ended the batch)
   * @param handshakes merge handshakes (notifier rounds) waited for on the way
   */
  public record KsmScanned(long requestId, long visited, long handshakes) implements KsmReply {}

  /** A control or {@link KsmMadvise} took effect (and its notifier rounds were acked). */
  public record KsmControlDone(long requestId) implements KsmReply {}

  /**
   * The answer to {@link KsmFullScans}.
   *
   * @param passes full passes completed
   * @param handshakes merge handshakes (notifier rounds) waited for on the way
   */
  public record KsmFullScansDone(long requestId, int passes, long handshakes) implements KsmReply {}

  /**
   * The answer to {@link GetKsmCounters}.
   *
   * @param counters the scanner's ({@link FrameScanner#counters()}: {@code pages_shared}, {@code
   *     pages_sharing}, {@code pages_unshared}, {@code pages_volatile}, {@code full_scans}, {@code
   *     pages_visited}, {@code rmap_items}, {@code stable_nodes}, {@code handshake_rewinds}, {@code
   *     handshakes_abandoned}), the controls ({@code run}, {@code pages_to_scan}, {@code
   *     sleep_millisecs}) and the schedule's ({@code batches}: wake-ups completed, by the timer or
   *     {@link KsmScan}; {@code coalesced_ticks}: timer ticks dropped because a notifier round was
   *     in flight; {@code handshakes_waited}; {@code retries}: KSM commands answered from memory;
   *     {@code request_failures}: KSM commands answered {@link PageFrame.Failed}; {@code
   *     scan_failures}: timer batches that failed)
   * @param violations the scanner's counter violations (empty when consistent)
   */
  public record KsmCounters(long requestId, Map<String, Long> counters, List<String> violations)
      implements KsmReply {}
}
