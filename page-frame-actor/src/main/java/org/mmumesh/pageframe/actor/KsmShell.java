package org.mmumesh.pageframe.actor;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.mmumesh.pageframe.FrameScanner;
import org.mmumesh.pageframe.ShellCounter;
import org.mmumesh.pageframe.actor.KsmProtocol.GetKsmCounters;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmControlDone;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmCounters;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmFullScans;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmFullScansDone;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmMadvise;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmReply;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmScan;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmScanned;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmSetPagesToScan;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmSetRun;
import org.mmumesh.pageframe.actor.KsmProtocol.KsmSetSleepMillisecs;
import org.mmumesh.shell.Attempt;
import org.slf4j.Logger;

/**
 * ksmd in the host's {@link PageFrame}: the handlers of {@link KsmProtocol} and ksmd's schedule
 * (spec 7.1 and 7.3). The controls and the scan work are the {@link FrameScanner}'s, on the
 * PageFrame's core; this class owns the timer and answers through the PageFrame's notifier rounds,
 * so a scan's merge handshakes complete before it goes on or answers.
 *
 * <p><b>Schedule.</b> While {@code run} is 1 a timer ticks every {@code sleep_millisecs}; each tick
 * is one wake-up ({@code ksm_do_scan} of {@code pages_to_scan} pages; nothing when 0), continued
 * past merge handshakes as {@link KsmScan} is. Setting {@code run} to 1 also wakes ksmd at once (a
 * tick sent to itself before the reply, so it runs before anything the requester sends next). A
 * tick that arrives while a notifier round is in flight (a wake-up waiting for its handshake, or
 * any other round) is dropped and counted ({@code coalesced_ticks}), so the work in flight is
 * bounded whatever the timer does. Ticks are wall-clock; a client stepping by simulated time sets
 * {@code pages_to_scan} 0 and sends {@link KsmScan}s.
 *
 * <p>State: the scanner (null: every command rejected with {@link PageFrame#NO_SCANNER}) and the
 * schedule's counters; the timer follows the scanner's {@code run}. Lost with the entity, like the
 * frames (passivation is off).
 */
final class KsmShell {
  /** A tick of ksmd's timer (or its wake-up at {@code run} 1). Local only. */
  record Tick() implements PageFrame.Command, NoSerializationVerificationNeeded {}

  private static final Tick TICK = new Tick();
  private static final String TICK_KEY = "ksmd-tick";

  /** What happens when a wake-up ends. */
  private interface WakeUp {
    Behavior<PageFrame.Command> done(long visited, long handshakes);

    Behavior<PageFrame.Command> rejected(String why);

    Behavior<PageFrame.Command> failed(RuntimeException e);
  }

  private final PageFrame shell;
  private final FrameScanner scanner;
  private final TimerScheduler<PageFrame.Command> timers;
  private final ActorRef<PageFrame.Command> self;
  private final Logger log;

  private long coalescedTicks;
  private long retries;
  private long requestFailures;
  private long scanFailures;

  KsmShell(
      PageFrame shell,
      FrameScanner scanner,
      TimerScheduler<PageFrame.Command> timers,
      ActorRef<PageFrame.Command> self,
      Logger log) {
    this.shell = shell;
    this.scanner = scanner;
    this.timers = timers;
    this.self = self;
    this.log = log;
  }

  // ---- controls -------------------------------------------------------------------------------

  Behavior<PageFrame.Command> onSetRun(KsmSetRun m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmSetRun", -1, m.requestId());
    if (replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return reject(m, PageFrame.NO_SCANNER);
    }
    int old = scanner.run();
    return Attempt.run(() -> scanner.setRun(m.run()))
        .fold(
            ok -> {
              followRun(old);
              return controlDone(key, m.replyTo());
            },
            why -> reject(m, why),
            e -> failed(e, "KsmSetRun", -1, m.requestId(), m.replyTo()));
  }

  /** The timer follows {@code run}: 0 to 1 starts it and wakes ksmd at once; 0 or 2 stop it. */
  private void followRun(int old) {
    if (scanner.run() != 1) {
      timers.cancel(TICK_KEY);
    } else if (old != 1) {
      startTimer();
      self.tell(TICK);
    }
  }

  private void startTimer() {
    timers.startTimerWithFixedDelay(TICK_KEY, TICK, Duration.ofMillis(scanner.sleepMillisecs()));
  }

  Behavior<PageFrame.Command> onSetPagesToScan(KsmSetPagesToScan m) {
    if (scanner == null) {
      return reject(m, PageFrame.NO_SCANNER);
    }
    return Attempt.run(() -> scanner.setPagesToScan(m.pages()))
        .fold(
            ok -> reply(m.replyTo(), new KsmControlDone(m.requestId())),
            why -> reject(m, why),
            e -> failed(e, "KsmSetPagesToScan", -1, m.requestId(), m.replyTo()));
  }

  Behavior<PageFrame.Command> onSetSleepMillisecs(KsmSetSleepMillisecs m) {
    if (scanner == null) {
      return reject(m, PageFrame.NO_SCANNER);
    }
    return Attempt.run(() -> scanner.setSleepMillisecs(m.millis()))
        .fold(
            ok -> {
              if (scanner.run() == 1) {
                startTimer(); // restarts with the new period
              }
              return reply(m.replyTo(), new KsmControlDone(m.requestId()));
            },
            why -> reject(m, why),
            e -> failed(e, "KsmSetSleepMillisecs", -1, m.requestId(), m.replyTo()));
  }

  Behavior<PageFrame.Command> onMadvise(KsmMadvise m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmMadvise", m.vm(), m.requestId());
    if (replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return reject(m, PageFrame.NO_SCANNER);
    }
    return Attempt.run(() -> scanner.madvise(m.vm(), m.hvaPage(), m.pages(), m.mergeable()))
        .fold(
            ok -> controlDone(key, m.replyTo()),
            why -> reject(m, why),
            e -> failed(e, "KsmMadvise", m.vm(), m.requestId(), m.replyTo()));
  }

  private Behavior<PageFrame.Command> controlDone(
      PageFrame.RequestKey key, ActorRef<KsmReply> replyTo) {
    KsmControlDone reply = new KsmControlDone(key.requestId());
    shell.remember(key, reply);
    return reply(replyTo, reply);
  }

  // ---- scanning -------------------------------------------------------------------------------

  Behavior<PageFrame.Command> onTick(Tick t) {
    if (scanner == null || scanner.run() != 1) {
      return shell; // a tick of a timer cancelled meanwhile
    }
    if (shell.roundInFlight()) {
      coalescedTicks++;
      return shell;
    }
    if (scanner.pagesToScan() == 0) {
      return shell; // ksm_do_scan(0)
    }
    return wakeUp(
        scanner.pagesToScan(),
        0,
        0,
        new WakeUp() {
          @Override
          public Behavior<PageFrame.Command> done(long visited, long handshakes) {
            return shell;
          }

          @Override
          public Behavior<PageFrame.Command> rejected(String why) {
            scanFailures++;
            log.error("ksmd: batch refused: {}", why);
            return shell;
          }

          @Override
          public Behavior<PageFrame.Command> failed(RuntimeException e) {
            scanFailures++;
            shell.count(ShellCounter.CORE_FAILURES);
            log.error("ksmd: batch failed", e);
            return shell;
          }
        });
  }

  Behavior<PageFrame.Command> onScan(KsmScan m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmScan", -1, m.requestId());
    if (replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return reject(m, PageFrame.NO_SCANNER);
    }
    if (m.pages() < 1 || m.pages() > PageFrame.UINT_MAX) {
      return reject(
          m, "pages: " + m.pages() + " is out of range; allowed 1 to " + PageFrame.UINT_MAX);
    }
    if (scanner.run() != 1) {
      return reject(
          m,
          "run: " + scanner.run() + " is not allowed for KsmScan; allowed 1 (KsmSetRun 1 first)");
    }
    return wakeUp(
        m.pages(),
        0,
        0,
        new WakeUp() {
          @Override
          public Behavior<PageFrame.Command> done(long visited, long handshakes) {
            KsmScanned reply = new KsmScanned(m.requestId(), visited, handshakes);
            shell.remember(key, reply);
            m.replyTo().tell(reply);
            return shell;
          }

          @Override
          public Behavior<PageFrame.Command> rejected(String why) {
            return reject(m, why);
          }

          @Override
          public Behavior<PageFrame.Command> failed(RuntimeException e) {
            return KsmShell.this.failed(e, "KsmScan", -1, m.requestId(), m.replyTo());
          }
        });
  }

  /**
   * One step of a wake-up with {@code left} pages of budget: scan until the budget is spent, the
   * pass ends the batch, or a merge waits for a handshake; in that case the next step is the reply
   * the notifier round holds, so it runs when the round is acknowledged.
   */
  private Behavior<PageFrame.Command> wakeUp(long left, long visited, long handshakes, WakeUp end) {
    return Attempt.of(() -> scanner.scan(left))
        .fold(
            b -> {
              long v = visited + b.visited();
              long l = left - b.visited();
              if (b.handshakePending()) {
                shell.count(ShellCounter.KSM_HANDSHAKES);
                long h = handshakes + 1;
                if (scanner.run() == 1 && l > 0) {
                  return shell.answer(() -> wakeUp(l, v, h, end));
                }
                shell.count(ShellCounter.KSM_BATCHES);
                return shell.answer(() -> end.done(v, h));
              }
              shell.count(ShellCounter.KSM_BATCHES);
              return shell.answer(() -> end.done(v, handshakes));
            },
            end::rejected,
            end::failed);
  }

  Behavior<PageFrame.Command> onFullScans(KsmFullScans m) {
    PageFrame.RequestKey key = new PageFrame.RequestKey("KsmFullScans", -1, m.requestId());
    if (replayed(key, m.replyTo())) {
      return shell;
    }
    if (scanner == null) {
      return reject(m, PageFrame.NO_SCANNER);
    }
    if (m.passes() < 0) {
      return reject(
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
              return reply(m.replyTo(), reply);
            },
            why -> reject(m, why),
            e -> failed(e, "KsmFullScans", -1, m.requestId(), m.replyTo()));
  }

  // ---- counters -------------------------------------------------------------------------------

  /** Read-only: waits in the stash while a round is in flight, so a wake-up is never half seen. */
  Behavior<PageFrame.Command> onGetCounters(GetKsmCounters m) {
    if (scanner == null) {
      m.replyTo().tell(new PageFrame.Rejected(m.requestId(), PageFrame.NO_SCANNER));
      return shell;
    }
    Map<String, Long> c = new LinkedHashMap<>(scanner.counters());
    c.put("run", (long) scanner.run());
    c.put("pages_to_scan", scanner.pagesToScan());
    c.put("sleep_millisecs", scanner.sleepMillisecs());
    c.put("batches", shell.counter(ShellCounter.KSM_BATCHES));
    c.put("coalesced_ticks", coalescedTicks);
    c.put("handshakes_waited", shell.counter(ShellCounter.KSM_HANDSHAKES));
    c.put("retries", retries);
    c.put("request_failures", requestFailures);
    c.put("scan_failures", scanFailures);
    m.replyTo().tell(new KsmCounters(m.requestId(), c, List.copyOf(scanner.counterViolations())));
    return shell;
  }

  /** The scanner's incremental counter check, or nothing without a scanner. */
  List<String> counterViolationsIncremental() {
    return scanner == null ? List.of() : scanner.counterViolationsIncremental();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private boolean replayed(PageFrame.RequestKey key, ActorRef<KsmReply> replyTo) {
    if (shell.replayed(key, replyTo)) {
      retries++;
      return true;
    }
    return false;
  }

  /**
   * Bad input or a wrong state: answered, and nothing changes, no counter either (a refused KSM
   * command leaves every statistic as it was, as the gateway's malformed-request table checks).
   */
  private Behavior<PageFrame.Command> reject(PageFrame.Request m, String reason) {
    PageFrame.Rejected r = new PageFrame.Rejected(m.requestId(), reason);
    return shell.answer(() -> m.replyTo().tell(r));
  }

  private Behavior<PageFrame.Command> reply(ActorRef<KsmReply> to, KsmReply reply) {
    return shell.answer(() -> to.tell(reply));
  }

  private Behavior<PageFrame.Command> failed(
      RuntimeException e, String what, int vm, long requestId, ActorRef<KsmReply> replyTo) {
    requestFailures++;
    return shell.failed(e, what, vm, -1, -1, requestId, replyTo);
  }
}
