package org.mmumesh.guestmmu;

import static org.mmumesh.common.VsidTags.VSID_BAT;
import static org.mmumesh.common.VsidTags.VSID_PR;
import static org.mmumesh.common.VsidTags.VSID_REAL;
import static org.mmumesh.common.VsidTags.VSID_REAL_DR;
import static org.mmumesh.common.VsidTags.VSID_REAL_IR;

import org.mmumesh.common.Access;
import org.mmumesh.common.Checks;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.HostFlush;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.Quirk;

/**
 * The guest MMU of a 32-bit Book3S guest (750 / 74xx class) as PR KVM models it in {@code
 * book3s_32_mmu.c}: segment registers, BATs, the hashed page table, the PP x key table and R/C
 * updates (spec section 2). One instance per HTAB (SDR1 value): it searches and updates the {@link
 * GuestHtab} it was built on, while the per-vCPU registers live in {@link Cpu32State}. A vCPU whose
 * guest writes another SDR1 gets another instance over the same guest memory ({@link
 * GuestHtab#withSdr1}, {@link Guest32#setSdr1}).
 *
 * <p>{@link #xlate} follows the order of spec 2.8: magic page, BATs, the primary PTEG, then the
 * secondary PTEG. Policy differences (spec section 1): {@code legacy} skips matching entries that
 * give no read access and ignores BATs without write permission even for loads (rows 13 and 15);
 * quirk Q2 searches the secondary PTEG after a primary -EPERM; quirk Q3 makes BAT PP=3 writable.
 */
public final class Hash32Mmu implements HashMmu<Cpu32State> {
  /** HPTE word-0 and word-1 fields (spec 2.4). */
  public static final long PTE_V = 0x80000000L;

  public static final long PTE_H = 0x40L;
  public static final long PTE_R = 0x100L;
  public static final long PTE_C = 0x80L;
  public static final long PTE_PP = 0x3L;
  public static final long PTE_RPN = 0xFFFFF000L;

  /** The mask of the host flush a 32-bit guest {@code tlbie} requests (spec 5.6). */
  public static final long TLBIE_MASK = 0x0FFFF000L;

  private static final long MAX_EA = 0xFFFFFFFFL;

  private final GuestHtab htab;
  private final MmuOptions options;
  private final XlateRules rules;
  private final boolean q2;
  private final boolean q3;

  /**
   * @param htab a 32-bit HTAB ({@link GuestHtab#forSdr1Book3s32})
   * @param options the policy and quirks
   */
  public Hash32Mmu(GuestHtab htab, MmuOptions options) {
    if (htab.wordBytes() != 4) {
      throw new IllegalArgumentException("htab: a 64-bit HTAB was given; allowed: a 32-bit HTAB");
    }
    this.htab = htab;
    this.options = options;
    this.rules = new XlateRules(options);
    this.q2 = options.has(Quirk.Q2_SECONDARY_HIDES_EPERM);
    this.q3 = options.has(Quirk.Q3_BAT_PP3_WRITABLE);
  }

  /** The HTAB this instance searches (the one its SDR1 names). */
  public GuestHtab htab() {
    return htab;
  }

  /** The policy and quirks in force. */
  public MmuOptions options() {
    return options;
  }

  /**
   * Translates {@code ea} for {@code access} (spec 2.8). With {@code guestVisible=false} (debug and
   * inspection paths) no R/C bit is written.
   *
   * @throws IllegalArgumentException when {@code ea} does not fit 32 bits
   */
  @Override
  public XlateResult xlate(
      Cpu32State cpu, long ea, Access access, boolean guestVisible, XlateTrace trace) {
    Checks.unsignedAtMost("ea", ea, MAX_EA);
    boolean data = access.isData();
    boolean iswrite = access.isWrite();
    if (MagicPage.hits(cpu, ea)) {
      return MagicPage.xlate(cpu, ea, eaToVp(cpu, ea), trace);
    }
    XlateResult r = xlateBat(cpu, ea, data, iswrite, trace);
    if (r.status() != XlateStatus.OK) {
      r = xlatePte(cpu, ea, iswrite, true, guestVisible, trace);
    }
    if (r.status() == XlateStatus.ENOENT
        || (r.status() == XlateStatus.EPERM && q2 && !rules.legacy())) {
      if (r.status() == XlateStatus.EPERM && trace != null) {
        trace.step("Q2: primary -EPERM, searching the secondary PTEG anyway");
      }
      r = xlatePte(cpu, ea, iswrite, false, guestVisible, trace);
    }
    if (trace != null) {
      trace.step("result: " + r.status() + " (" + r.status().errno() + ")");
    }
    return r;
  }

  /** The BAT search (spec 2.7); a BAT never produces -EPERM. */
  private XlateResult xlateBat(
      Cpu32State cpu, long ea, boolean data, boolean iswrite, XlateTrace trace) {
    int e = (int) ea;
    for (int i = 0; i < 8; i++) {
      Bat bat = cpu.bat(!data, i);
      if (cpu.msrPr() ? !bat.vp() : !bat.vs()) {
        continue;
      }
      if ((e & bat.bepiMask()) != bat.bepi()) {
        continue;
      }
      int pp = bat.pp();
      boolean mayRead = pp != 0;
      boolean mayWrite = q3 ? pp > 1 : pp == 2;
      String name = (data ? "DBAT" : "IBAT") + i;
      if (!mayRead) {
        Traces.step(trace, name + " matches but PP=0 gives no access: skipped");
        continue;
      }
      if (rules.legacy() ? !mayWrite : iswrite && !mayWrite) {
        Traces.step(trace, name + " matches but PP=" + pp + " is read-only: skipped");
        continue;
      }
      long raddr = (bat.brpn() | (e & ~bat.bepiMask())) & 0xFFFFFFFFL;
      Traces.step(
          trace,
          name
              + " hit: BEPI 0x"
              + Integer.toHexString(bat.bepi())
              + ", raddr 0x"
              + Long.toHexString(raddr)
              + ", PP="
              + pp
              + (mayWrite ? " (read/write)" : " (read-only)"));
      return XlateResult.withoutHpte(
          XlateStatus.OK,
          new GuestPte(ea, eaToVp(cpu, ea), raddr, true, mayWrite, true, PageSize.SIZE_4K));
    }
    return XlateResult.ENOENT;
  }

  /** {@code kvmppc_mmu_book3s_32_get_pteg} (spec 2.3): the PTEG's guest-real address. */
  public long ptegAddr(int sr, long ea, boolean primary) {
    long sdr1 = htab.sdr1();
    int vsid = Cpu32State.srVsid(sr);
    int pageIdx = (int) ((ea & 0x0FFFFFFF) >>> 12);
    int hashMask = (int) (((sdr1 & 0x1FF) << 16) | 0xFFC0);
    int h = (vsid ^ pageIdx) << 6;
    if (!primary) {
      h = ~h;
    }
    return (sdr1 & 0xFFFF0000L) | ((h & hashMask) & 0xFFFFFFFFL);
  }

  /** {@code kvmppc_mmu_book3s_32_get_ptem} (spec 2.4): the expected word 0. */
  public static long ptem(int sr, long ea, boolean primary) {
    int w =
        (int) ((ea & 0x0FFFFFFF) >>> 22)
            | (Cpu32State.srVsid(sr) << 7)
            | (primary ? 0 : (int) PTE_H)
            | (int) PTE_V;
    return w & 0xFFFFFFFFL;
  }

  /** One PTEG search (spec 2.4-2.6); -EPERM only from the change on. */
  private XlateResult xlatePte(
      Cpu32State cpu,
      long ea,
      boolean iswrite,
      boolean primary,
      boolean guestVisible,
      XlateTrace t) {
    int sr = cpu.findSr(ea);
    long pteg = ptegAddr(sr, ea, primary);
    long ptem = ptem(sr, ea, primary);
    if (t != null) {
      t.step(
          String.format(
              "SR%d=0x%08x (VSID 0x%x, Ks=%d, Kp=%d); %s PTEG 0x%08x, ptem 0x%08x",
              (int) (ea >>> 28),
              sr,
              Cpu32State.srVsid(sr),
              (sr & Cpu32State.SR_KS) != 0 ? 1 : 0,
              (sr & Cpu32State.SR_KP) != 0 ? 1 : 0,
              primary ? "primary" : "secondary",
              pteg,
              ptem));
    }
    boolean key = cpu.msrPr() ? (sr & Cpu32State.SR_KP) != 0 : (sr & Cpu32State.SR_KS) != 0;
    for (int slot = 0; slot < 8; slot++) {
      long w0Addr = pteg + slot * 8L;
      if (htab.word(w0Addr) != ptem) {
        continue;
      }
      long w1Addr = w0Addr + 4;
      long w1 = htab.word(w1Addr);
      int i = (int) (w1 & PTE_PP) | (key ? 4 : 0);
      boolean mayWrite = i == 0 || i == 1 || i == 2 || i == 6;
      boolean mayRead = mayWrite || i == 3 || i == 5 || i == 7;
      if (rules.legacy() && !mayRead) {
        Traces.step(t, "slot " + slot + " matches but gives no read access: skipped (legacy)");
        continue;
      }
      boolean refused = rules.refuses(iswrite, mayRead, mayWrite);
      long after =
          rules.updateRc(
              htab,
              w1Addr,
              w1,
              XlateRules.RcLayout.BOOK3S_32,
              XlateRules.setsR(mayRead),
              rules.setsC(iswrite, mayWrite),
              guestVisible);
      long raddr = (w1 & PTE_RPN) | (ea & 0xFFF);
      if (t != null) {
        t.step(
            String.format(
                "slot %d matches: word1 0x%08x, PP=%d key=%d -> %s; raddr 0x%08x",
                slot,
                w1,
                w1 & PTE_PP,
                key ? 1 : 0,
                mayWrite ? "read/write" : mayRead ? "read-only" : "no access",
                raddr));
        t.step(String.format("R/C: word1 0x%08x -> 0x%08x (%s)", w1, after, rcText(w1, after)));
      }
      GuestPte pte =
          new GuestPte(ea, eaToVp(cpu, ea), raddr, mayRead, mayWrite, true, PageSize.SIZE_4K);
      return new XlateResult(
          refused ? XlateStatus.EPERM : XlateStatus.OK,
          pte,
          XlateResult.rcOf(w1, PTE_R, PTE_C),
          XlateResult.rcOf(after, PTE_R, PTE_C));
    }
    Traces.step(t, "no matching entry in the " + (primary ? "primary" : "secondary") + " PTEG");
    return XlateResult.ENOENT;
  }

  private static String rcText(long before, long after) {
    return "R " + Traces.bit(before, after, PTE_R) + ", C " + Traces.bit(before, after, PTE_C);
  }

  /**
   * {@code kvmppc_mmu_book3s_32_esid_to_vsid} (spec 2.8, 5.2): the guest VSID of segment {@code
   * esid}, tagged with the translation mode and with VSID_PR in problem state.
   */
  public long esidToVsid(Cpu32State cpu, long esid) {
    long ea = esid << 28;
    long gvsid = esid;
    int sr = 0;
    boolean dr = cpu.msrDr();
    boolean ir = cpu.msrIr();
    if (dr || ir) {
      sr = cpu.findSr(ea);
      if (Cpu32State.srValid(sr)) {
        gvsid = Cpu32State.srVsid(sr);
      }
    }
    long vsid;
    if (!dr && !ir) {
      vsid = VSID_REAL | esid;
    } else if (!dr) {
      vsid = VSID_REAL_IR | gvsid;
    } else if (!ir) {
      vsid = VSID_REAL_DR | gvsid;
    } else {
      vsid = Cpu32State.srValid(sr) ? Cpu32State.srVsid(sr) : VSID_BAT | gvsid;
    }
    if (cpu.msrPr()) {
      vsid |= VSID_PR;
    }
    return vsid;
  }

  /** {@code ea_to_vp}: {@code ((ea >>> 12) & 0xFFFF) | (gvsid << 16)}, wrapping at 64 bits. */
  @Override
  public long eaToVp(Cpu32State cpu, long ea) {
    return ((ea >>> 12) & 0xFFFF) | (esidToVsid(cpu, ea >>> 28) << 16);
  }

  // ---- What a guest kernel does to its HTAB -------------------------------------------------

  /**
   * Inserts an HPTE for {@code ea} like H_ENTER: the first invalid slot of the primary PTEG, else
   * of the secondary PTEG (with H set). Word 1 is written first, then word 0.
   *
   * @param word1 the second word (RPN, R, C, WIMG, PP)
   * @return the guest-real address of word 0, or -1 when both PTEGs are full (nothing changed)
   */
  public long enter(Cpu32State cpu, long ea, long word1) {
    Checks.unsignedAtMost("ea", ea, MAX_EA);
    Checks.unsignedAtMost("word1", word1, 0xFFFFFFFFL);
    int sr = cpu.findSr(ea);
    for (boolean primary : new boolean[] {true, false}) {
      long pteg = ptegAddr(sr, ea, primary);
      for (int slot = 0; slot < 8; slot++) {
        long w0Addr = pteg + slot * 8L;
        if ((htab.word(w0Addr) & PTE_V) == 0) {
          htab.setWord(w0Addr + 4, word1);
          htab.setWord(w0Addr, ptem(sr, ea, primary));
          return w0Addr;
        }
      }
    }
    return -1;
  }

  /**
   * Finds the HPTE that translates {@code ea} (primary, then secondary; first exact match), with no
   * side effects.
   *
   * @return the guest-real address of its word 0, or -1
   */
  public long findPte(Cpu32State cpu, long ea) {
    Checks.unsignedAtMost("ea", ea, MAX_EA);
    int sr = cpu.findSr(ea);
    for (boolean primary : new boolean[] {true, false}) {
      long pteg = ptegAddr(sr, ea, primary);
      long ptem = ptem(sr, ea, primary);
      for (int slot = 0; slot < 8; slot++) {
        if (htab.word(pteg + slot * 8L) == ptem) {
          return pteg + slot * 8L;
        }
      }
    }
    return -1;
  }

  /**
   * Removes the HPTE translating {@code ea} like H_REMOVE (word 0 cleared), returning the flush the
   * host must then perform on every vCPU, or null when no entry matched (nothing changed).
   */
  public HostFlush remove(Cpu32State cpu, long ea) {
    long addr = findPte(cpu, ea);
    if (addr < 0) {
      return null;
    }
    htab.setWord(addr, 0);
    return tlbie(ea);
  }

  /** Word 1 of the HPTE whose word 0 is at {@code pteAddr}. */
  public long readWord1(long pteAddr) {
    return htab.word(pteAddr + 4);
  }

  /**
   * Clears R and/or C (dirty tracking) in the HPTE at {@code pteAddr}. The guest must then {@link
   * #tlbie} the page, or a writable host mapping lets stores through without setting C again.
   *
   * @param bits a combination of {@link #PTE_R} and {@link #PTE_C}
   * @return word 1 before the change
   */
  public long clearRc(long pteAddr, long bits) {
    Checks.bitsClear("bits", bits, ~(PTE_R | PTE_C), "allowed: R 0x100 and C 0x80");
    long w1 = htab.word(pteAddr + 4);
    htab.setWord(pteAddr + 4, w1 & ~bits);
    return w1;
  }

  /** A guest {@code tlbie ea}: the host flushes that page offset in every segment (spec 5.6). */
  public HostFlush tlbie(long ea) {
    Checks.unsignedAtMost("ea", ea, MAX_EA);
    return new HostFlush.PteFlush(ea, TLBIE_MASK);
  }
}
