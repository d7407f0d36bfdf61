package org.mmumesh.pageframe.actor;

import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The {@link PageFrame}'s KSM sub-protocol: how the host's {@code Ksm} entity (ksmd's schedule and
 * controls) drives the {@link FrameScanner} (ksmd's scan work, its trees and rmap items) that runs
 * on the PageFrame's own core, beside the frames it reads synchronously (spec section 7; why it
 * lives there: {@link FrameScanner}). Handled by {@link KsmScanShell}.
 *
 * <p><b>The merge handshake</b> ("write-protect first, remap after the host MMUs confirm that no
 * writable mapping remains"): with a scanner the core tracks invalidations of VMs that have
 * subscribers ({@link PageFrames#trackInvalidations}); a batch whose merge write-protected a
 * writable page stops early, its events go out as a notifier round, and {@link KsmScanned} (with
 * {@code handshakePending}) is sent when the round is acknowledged, after {@link
 * PageFrames#completeInvalidations()}; the next batch re-processes the page and merges it only if
 * its content is still the same. {@link KsmFullScans} goes through such rounds by itself before it
 * answers. A round that ends by its ack timeout counts as complete (with the warning and counters
 * of {@link FaultProtocol}). Without a scanner these commands are answered {@link
 * PageFrame.Rejected} with {@link PageFrame#NO_SCANNER}. Each command but {@link GetKsmCounters}
 * remembers its reply for retries.
 */
public interface KsmScanProtocol {
  /**
   * KSM: one ksmd batch of up to {@code pages} pages (0 to {@link PageFrame#UINT_MAX}) on this
   * host's {@link FrameScanner}. Answered {@link KsmScanned} only after every notifier round the
   * batch started was acknowledged: when {@code handshakePending} is true the merge handshake is
   * then complete and the scan may continue at once with the remaining budget. Idempotent: the same
   * requestId again is answered from memory without scanning again.
   */
  public record KsmScan(long requestId, long pages, ActorRef<KsmScannerReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * KSM: sets {@code run} (0 stop, 1 merge, 2 stop and unmerge every KSM page: the COW breaks go
   * through notifier rounds). Answered {@link KsmControlDone} after the acks. Idempotent.
   */
  public record KsmSetRun(long requestId, int run, ActorRef<KsmScannerReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * KSM: {@code madvise(MADV_MERGEABLE / MADV_UNMERGEABLE)} of host pages {@code [hvaPage, hvaPage
   * + pages)} of VM {@code vm}. Answered {@link KsmControlDone} (after the acks of the COW breaks
   * of an unmerge). Idempotent.
   */
  public record KsmMadvise(
      long requestId,
      int vm,
      long hvaPage,
      long pages,
      boolean mergeable,
      ActorRef<KsmScannerReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /**
   * KSM lockstep stepping: runs {@code passes} (0 to {@link Integer#MAX_VALUE}) whole passes,
   * completing merge handshakes as they come (the actor waits for the acks, then goes on; other
   * commands wait in the stash meanwhile), then answers {@link KsmFullScansDone}. Needs {@code run}
   * 1. Idempotent.
   */
  public record KsmFullScans(long requestId, int passes, ActorRef<KsmScannerReply> replyTo)
      implements PageFrame.Command, PageFrame.Request {}

  /** KSM: the scanner's counters and counter violations. Read-only, handled at once. */
  public record GetKsmCounters(long requestId, ActorRef<KsmScannerReply> replyTo)
      implements PageFrame.Command {}

  /**
   * What a KSM scanner command's requester ({@link KsmScan}, {@link KsmSetRun}, {@link KsmMadvise},
   * {@link KsmFullScans}, {@link GetKsmCounters}) receives.
   */
  public sealed interface KsmScannerReply extends PageFrame.Reply
      permits KsmScanned,
          KsmControlDone,
          KsmFullScansDone,
          KsmCounters,
          PageFrame.Rejected,
          PageFrame.Failed {}

  /**
   * The answer to {@link KsmScan}, sent after the acks of every notifier event of the batch.
   *
   * @param visited pages visited
   * @param handshakePending the batch stopped early for a merge handshake, which is now complete:
   *     continue at once with the remaining budget
   */
  public record KsmScanned(long requestId, long visited, boolean handshakePending)
      implements KsmScannerReply {}

  /** A {@link KsmSetRun} or {@link KsmMadvise} took effect (and its notifier rounds were acked). */
  public record KsmControlDone(long requestId) implements KsmScannerReply {}

  /**
   * The answer to {@link KsmFullScans}.
   *
   * @param passes full passes completed
   * @param handshakes merge handshakes (notifier rounds) waited for on the way
   */
  public record KsmFullScansDone(long requestId, int passes, long handshakes)
      implements KsmScannerReply {}

  /** The answer to {@link GetKsmCounters}: {@link FrameScanner#counters()} and violations. */
  public record KsmCounters(long requestId, Map<String, Long> counters, List<String> violations)
      implements KsmScannerReply {}
}
