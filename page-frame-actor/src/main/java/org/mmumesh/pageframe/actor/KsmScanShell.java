package org.mmumesh.pageframe.actor;

import java.util.LinkedHashMap;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.mmumesh.pageframe.FrameScanner;
import org.mmumesh.pageframe.ShellCounter;
import org.mmumesh.pageframe.actor.KsmScanProtocol.GetKsmCounters;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmControlDone;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmCounters;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmFullScans;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmFullScansDone;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmMadvise;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmScan;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmScanned;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmScannerReply;
import org.mmumesh.pageframe.actor.KsmScanProtocol.KsmSetRun;
import org.mmumesh.shell.Attempt;

/**
 * The {@link PageFrame}'s handlers of {@link KsmScanProtocol}: they run the host's {@link
 * FrameScanner} (ksmd's scan work) on the PageFrame's core and answer through its notifier rounds,
 * so a batch's merge handshake completes before its reply (see {@link KsmScanProtocol}). The
 * scanner is between batches whenever a message runs.
 */
final class KsmScanShell {
  private final PageFrame shell;

  /** The scanner on the shell's core, or null (every command rejected with NO_SCANNER). */
  private final FrameScanner scanner;

  KsmScanShell(PageFrame shell, FrameScanner scanner) {
    this.shell = shell;
    this.scanner = scanner;
  }

  Behavior<PageFrame.Command> onKsmScan(KsmScan m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmScan", -1, m.requestId());
    if (shell.replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return shell.reject(m, PageFrame.NO_SCANNER);
    }
    if (m.pages() < 0 || m.pages() > PageFrame.UINT_MAX) {
      return shell.reject(
          m, "pages: " + m.pages() + " is out of range; allowed 0 to " + PageFrame.UINT_MAX);
    }
    return Attempt.of(() -> scanner.scan(m.pages()))
        .fold(
            b -> {
              shell.count(ShellCounter.KSM_BATCHES);
              if (b.handshakePending()) {
                shell.count(ShellCounter.KSM_HANDSHAKES);
              }
              KsmScanned reply = new KsmScanned(m.requestId(), b.visited(), b.handshakePending());
              shell.remember(key, reply);
              return shell.answer(() -> m.replyTo().tell(reply));
            },
            why -> shell.reject(m, why),
            e -> shell.failed(e, "KsmScan", -1, -1, -1, m.requestId(), m.replyTo()));
  }

  Behavior<PageFrame.Command> onKsmSetRun(KsmSetRun m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmSetRun", -1, m.requestId());
    if (shell.replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return shell.reject(m, PageFrame.NO_SCANNER);
    }
    return Attempt.run(() -> scanner.setRun(m.run()))
        .fold(
            ok -> controlDone(key, m.replyTo()),
            why -> shell.reject(m, why),
            e -> shell.failed(e, "KsmSetRun", -1, -1, -1, m.requestId(), m.replyTo()));
  }

  Behavior<PageFrame.Command> onKsmMadvise(KsmMadvise m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmMadvise", m.vm(), m.requestId());
    if (shell.replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return shell.reject(m, PageFrame.NO_SCANNER);
    }
    return Attempt.run(() -> scanner.madvise(m.vm(), m.hvaPage(), m.pages(), m.mergeable()))
        .fold(
            ok -> controlDone(key, m.replyTo()),
            why -> shell.reject(m, why),
            e -> shell.failed(e, "KsmMadvise", m.vm(), -1, -1, m.requestId(), m.replyTo()));
  }

  private Behavior<PageFrame.Command> controlDone(
      PageFrame.RequestKey key, ActorRef<KsmScannerReply> replyTo) {
    KsmControlDone reply = new KsmControlDone(key.requestId());
    shell.remember(key, reply);
    return shell.answer(() -> replyTo.tell(reply));
  }

  Behavior<PageFrame.Command> onKsmFullScans(KsmFullScans m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmFullScans", -1, m.requestId());
    if (shell.replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return shell.reject(m, PageFrame.NO_SCANNER);
    }
    if (m.passes() < 0) {
      return shell.reject(
          m, "passes: " + m.passes() + " is out of range; allowed 0 to " + Integer.MAX_VALUE);
    }
    return continueFullScans(key, m, m.passes(), 0);
  }

  /**
   * One step of a {@link KsmFullScans}: scan until the passes are done or a merge waits for a
   * handshake; in that case the next step is the reply the round holds, so it runs when the round
   * is acknowledged (and the shell stays waiting if it starts another round).
   */
  private Behavior<PageFrame.Command> continueFullScans(
      PageFrame.RequestKey key, KsmFullScans m, int remaining, long handshakes) {
    return Attempt.of(() -> scanner.runFullScans(remaining))
        .fold(
            p -> {
              int left = remaining - p.passesCompleted();
              if (p.handshakePending()) {
                shell.count(ShellCounter.KSM_HANDSHAKES);
                long waited = handshakes + 1;
                return shell.answer(() -> continueFullScans(key, m, left, waited));
              }
              KsmFullScansDone reply =
                  new KsmFullScansDone(m.requestId(), m.passes() - left, handshakes);
              shell.remember(key, reply);
              return shell.answer(() -> m.replyTo().tell(reply));
            },
            why -> shell.reject(m, why),
            e -> shell.failed(e, "KsmFullScans", -1, -1, -1, m.requestId(), m.replyTo()));
  }

  /** Read-only, handled at once. */
  Behavior<PageFrame.Command> onGetKsmCounters(GetKsmCounters m) {
    if (scanner == null) {
      shell.count(ShellCounter.REJECTED);
      m.replyTo().tell(new PageFrame.Rejected(m.requestId(), PageFrame.NO_SCANNER));
      return shell;
    }
    m.replyTo()
        .tell(
            new KsmCounters(
                m.requestId(),
                new LinkedHashMap<>(scanner.counters()),
                List.copyOf(scanner.counterViolations())));
    return shell;
  }

  /** The scanner's incremental counter check, or nothing without a scanner. */
  List<String> counterViolationsIncremental() {
    return scanner == null ? List.of() : scanner.counterViolationsIncremental();
  }
}
