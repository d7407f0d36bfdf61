package org.mmumesh.pageframe;

import it.unimi.dsi.fastutil.objects.Object2IntLinkedOpenHashMap;

/**
 * The MMU-notifier events one request caused and the acknowledgements still owed for them (spec
 * 5.7): in the kernel every {@code invalidate_range} callback has returned before the fault (or the
 * memslot update, or the KSM step) that caused it goes on, so the {@link PageFrame} actor holds the
 * request's reply back until this round is {@link #complete()}.
 *
 * <p>Each {@code NotifierEvent} sent is one acknowledgement owed for its (vm, notifier sequence):
 * two events share a sequence number when a host page is aliased by two memslots, and a subscriber
 * acknowledges each event it gets. Acknowledgements do not name the subscriber, so they are
 * counted, not attributed. Pure bookkeeping, no Pekko.
 */
public final class NotifierRound {
  /** A (vm, notifier sequence) pair. */
  record VmSeq(int vm, long notifierSeq) {}

  private final long id;
  private final Object2IntLinkedOpenHashMap<VmSeq> owed = new Object2IntLinkedOpenHashMap<>();
  private int outstanding;

  public NotifierRound(long id) {
    this.id = id;
  }

  public long id() {
    return id;
  }

  /** One more event of {@code (vm, seq)} was sent. */
  public void expect(int vm, long seq) {
    owed.addTo(new VmSeq(vm, seq), 1);
    outstanding++;
  }

  /**
   * One acknowledgement of {@code (vm, seq)} arrived.
   *
   * @return false if none was owed (late, duplicate or foreign: ignored)
   */
  public boolean ack(int vm, long seq) {
    VmSeq k = new VmSeq(vm, seq);
    int n = owed.getInt(k);
    if (n <= 0) {
      return false;
    }
    if (n == 1) {
      owed.removeInt(k);
    } else {
      owed.put(k, n - 1);
    }
    outstanding--;
    return true;
  }

  /** True when every acknowledgement arrived (or none was owed). */
  public boolean complete() {
    return outstanding == 0;
  }

  /** Acknowledgements still owed. */
  public int outstanding() {
    return outstanding;
  }

  /** The (vm, sequence) pairs still owed, for the timeout warning. */
  public String describeOwed() {
    StringBuilder b = new StringBuilder();
    for (var e : owed.object2IntEntrySet()) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append("vm ")
          .append(e.getKey().vm())
          .append(" seq ")
          .append(e.getKey().notifierSeq())
          .append(" x")
          .append(e.getIntValue());
    }
    return b.toString();
  }
}
