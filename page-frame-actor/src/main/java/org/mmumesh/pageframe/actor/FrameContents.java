package org.mmumesh.pageframe.actor;

import org.mmumesh.common.Fingerprint;
import org.mmumesh.pageframe.MemSlot;
import org.mmumesh.pageframe.PageFrames;
import org.mmumesh.pageframe.ShellCounter;
import org.mmumesh.pageframe.actor.FrameContentsProtocol.ApplyStores;
import org.mmumesh.pageframe.actor.FrameContentsProtocol.FramesRead;
import org.mmumesh.pageframe.actor.FrameContentsProtocol.ReadFrames;
import org.mmumesh.pageframe.actor.FrameContentsProtocol.ReadWord;
import org.mmumesh.pageframe.actor.FrameContentsProtocol.StoresDone;
import org.mmumesh.pageframe.actor.FrameContentsProtocol.WordRead;
import org.mmumesh.shell.LastReplies;
import org.slf4j.Logger;

/**
 * The {@link PageFrame}'s handlers of {@link FrameContentsProtocol}'s stores and reads: the stores
 * a vCPU made through writable host mappings, applied to the frames in program order, and reads of
 * frame contents. Handled at once, also while a notifier round is in flight: the vCPU acknowledges
 * a TLB shootdown only after its stores were applied, and the round may be waiting on that ack.
 */
final class FrameContents {
  private final PageFrame shell;
  private final PageFrames core;
  private final Logger log;
  private final LastReplies<StoresDone> lastStores = new LastReplies<>();

  FrameContents(PageFrame shell, PageFrames core, Logger log) {
    this.shell = shell;
    this.core = core;
    this.log = log;
  }

  /**
   * Never stashed (see {@link ApplyStores}); changes only frame contents, emits no event. The last
   * reply per (vm, vCPU) is remembered for retries.
   */
  void applyStores(ApplyStores m) {
    String bad = null;
    if (m.vcpu() < 0 || m.vcpu() > PageFrame.MAX_VCPU) {
      bad = "vcpu: " + m.vcpu() + " is out of range; allowed 0 to " + PageFrame.MAX_VCPU;
    } else if (m.vm() < 0 || m.vm() > PageFrames.MAX_VM) {
      bad = PageFrame.badVm(m.vm());
    } else if (m.pfns() == null || m.offsets() == null || m.values() == null) {
      bad = "pfns/offsets/values: null; required";
    } else if (m.pfns().length > PageFrame.MAX_STORES) {
      bad =
          "pfns: "
              + m.pfns().length
              + " stores is out of range; allowed 0 to "
              + PageFrame.MAX_STORES;
    } else if (m.offsets().length != m.pfns().length || m.values().length != m.pfns().length) {
      bad =
          "offsets/values: lengths "
              + m.offsets().length
              + "/"
              + m.values().length
              + " are not allowed; must equal pfns' length "
              + m.pfns().length;
    } else {
      for (int i = 0; i < m.offsets().length && bad == null; i++) {
        if (m.offsets()[i] < 0 || m.offsets()[i] > PageFrames.MAX_OFFSET) {
          bad =
              "offsets["
                  + i
                  + "]: "
                  + m.offsets()[i]
                  + " is out of range; allowed 0 to "
                  + PageFrames.MAX_OFFSET;
        }
      }
    }
    if (bad != null) {
      shell.count(ShellCounter.REJECTED);
      m.replyTo().tell(new PageFrame.Rejected(m.requestId(), bad));
      return;
    }
    long who = LastReplies.requester(m.vm(), m.vcpu());
    StoresDone last = lastStores.replayed(who, m.requestId());
    if (last != null) {
      shell.count(ShellCounter.RETRIES_ANSWERED);
      m.replyTo().tell(last);
      return;
    }
    int applied = 0;
    int refused = 0;
    for (int i = 0; i < m.pfns().length; i++) {
      try {
        core.storeFrame(m.pfns()[i], m.offsets()[i], m.values()[i]);
        applied++;
      } catch (IllegalStateException e) {
        refused++;
        log.warn(
            "store refused (vm {}, vcpu {}, pfn {}, offset {}): {}",
            m.vm(),
            m.vcpu(),
            m.pfns()[i],
            m.offsets()[i],
            e.getMessage());
      } catch (RuntimeException e) {
        refused++;
        shell.count(ShellCounter.CORE_FAILURES);
        log.error(
            "page-frame core failed in ApplyStores (vm {}, vcpu {}, pfn {})",
            m.vm(),
            m.vcpu(),
            m.pfns()[i],
            e);
      }
    }
    shell.add(ShellCounter.STORES_APPLIED, applied);
    shell.add(ShellCounter.STORES_REFUSED, refused);
    StoresDone reply = new StoresDone(m.requestId(), applied, refused);
    lastStores.remember(who, m.requestId(), reply);
    m.replyTo().tell(reply);
  }

  /** Read-only, handled at once: the fingerprint behind each gfn (zero-page content if none). */
  void readFrames(ReadFrames m) {
    String bad = null;
    if (!core.hasVm(m.vm())) {
      bad = PageFrame.badVm(m.vm());
    } else if (m.count() < 0 || m.count() > PageFrame.MAX_READ_FRAMES) {
      bad =
          "count: "
              + m.count()
              + " is out of range; allowed 0 to "
              + PageFrame.MAX_READ_FRAMES
              + " per ReadFrames: read a larger range in consecutive chunks (gfnStart, gfnStart"
              + " + chunk, ...), each of at most "
              + PageFrame.MAX_READ_FRAMES
              + " frames, and of at most "
              + PageFrame.READ_FRAMES_CHUNK
              + " when the reply may cross nodes";
    } else if (m.gfnStart() < 0 || m.gfnStart() > PageFrames.MAX_GFN + 1 - m.count()) {
      bad =
          "gfnStart: "
              + m.gfnStart()
              + " is out of range; allowed 0 to "
              + (PageFrames.MAX_GFN + 1 - m.count())
              + " for count "
              + m.count();
    }
    if (bad != null) {
      shell.count(ShellCounter.REJECTED);
      m.replyTo().tell(new PageFrame.Rejected(m.requestId(), bad));
      return;
    }
    long[] fps = new long[m.count()];
    for (int i = 0; i < fps.length; i++) {
      long gfn = m.gfnStart() + i;
      MemSlot slot = core.slotOf(m.vm(), gfn);
      int pfn = slot == null ? -1 : core.ptePfn(m.vm(), slot.hvaOf(gfn));
      fps[i] = pfn < 0 ? Fingerprint.ZERO : core.frameFingerprint(pfn);
    }
    m.replyTo().tell(new FramesRead(m.requestId(), m.vm(), m.gfnStart(), fps));
  }

  void readWord(ReadWord m) {
    String bad = null;
    if (!core.hasVm(m.vm())) {
      bad = PageFrame.badVm(m.vm());
    } else if (m.offset() < 0 || m.offset() >= Fingerprint.PAGE_BYTES) {
      bad =
          "offset: "
              + m.offset()
              + " is out of range; allowed 0 to "
              + (Fingerprint.PAGE_BYTES - 1);
    }
    long fp = 0;
    if (bad == null) {
      try {
        fp = core.frameFingerprint(m.pfn());
      } catch (IllegalArgumentException e) {
        bad = e.getMessage();
      }
    }
    if (bad != null) {
      shell.count(ShellCounter.REJECTED);
      m.replyTo().tell(new PageFrame.Rejected(m.requestId(), bad));
      return;
    }
    m.replyTo()
        .tell(new WordRead(m.requestId(), m.pfn(), fp, Fingerprint.loadWord(fp, m.offset())));
  }
}
