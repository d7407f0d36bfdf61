package org.mmumesh.guestmmu;

import static org.mmumesh.common.VsidTags.NO_VSID;
import static org.mmumesh.common.VsidTags.VSID_1T;
import static org.mmumesh.common.VsidTags.VSID_64K;
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

/**
 * The guest MMU of a 64-bit Book3S guest (970 / POWER5..8 class) as PR KVM models it in {@code
 * book3s_64_mmu.c}: the SLB, VPN and hash, the AVPN match, PP0/PP/key protection, N, and R/C
 * updates (spec section 3). One instance per HTAB (SDR1 value): it searches and updates the {@link
 * GuestHtab} it was built on, while the SLB lives in each vCPU's {@link Cpu64State}. A vCPU whose
 * guest writes another SDR1 gets another instance over the same guest memory ({@link
 * GuestHtab#withSdr1}, {@link Guest64#setSdr1}).
 *
 * <p>The 64-bit search has no Q2 problem: it goes to the secondary PTEG only when the primary has
 * no match. Policy difference (spec section 1, rows 3 and 14): {@code legacy} sets C on any access
 * the HPTE allows writing and refuses only unreadable entries.
 */
public final class Hash64Mmu implements HashMmu<Cpu64State> {
  /** Doubleword-0 fields (spec 3.3). */
  public static final long HPTE_V_B = 0xC000000000000000L;

  public static final long HPTE_V_1T = 0x4000000000000000L;
  public static final long HPTE_V_AVPN = 0x3FFFFFFFFFFFFF80L;
  public static final long HPTE_V_LARGE = 0x4L;
  public static final long HPTE_V_SECONDARY = 0x2L;
  public static final long HPTE_V_VALID = 0x1L;

  /** Doubleword-1 fields (spec 3.3). RPN is the 2013 header's 0x3FFFFFFFFFFFF000. */
  public static final long HPTE_R_PP0 = 0x8000000000000000L;

  public static final long HPTE_R_RPN = 0x3FFFFFFFFFFFF000L;
  public static final long HPTE_R_R = 0x100L;
  public static final long HPTE_R_C = 0x80L;
  public static final long HPTE_R_N = 0x4L;
  public static final long HPTE_R_PP = 0x3L;

  /** pte_vflush masks by page size (spec 5.6). */
  public static final long VFLUSH_4K = 0xFFFFFFFFFL;

  public static final long VFLUSH_64K = 0xFFFFFFFF0L;
  public static final long VFLUSH_16M = 0xFFFFFF000L;

  private static final long V_MASK =
      HPTE_V_B | HPTE_V_AVPN | HPTE_V_LARGE | HPTE_V_VALID | HPTE_V_SECONDARY;
  private static final long HASH_MASK_39 = (1L << 39) - 1;

  private final GuestHtab htab;
  private final MmuOptions options;
  private final XlateRules rules;
  private final boolean host64kPages;

  /**
   * @param htab a 64-bit HTAB ({@link GuestHtab#forSdr1Book3s64})
   * @param options the policy and quirks
   * @param host64kPages the host uses 64 KiB pages (then 64K guest segments get VSID_64K; spec
   *     5.2). mmumesh's default host uses 4 KiB pages.
   */
  public Hash64Mmu(GuestHtab htab, MmuOptions options, boolean host64kPages) {
    if (htab.wordBytes() != 8) {
      throw new IllegalArgumentException("htab: a 32-bit HTAB was given; allowed: a 64-bit HTAB");
    }
    this.htab = htab;
    this.options = options;
    this.rules = new XlateRules(options);
    this.host64kPages = host64kPages;
  }

  /** A model on the default 4 KiB-page host. */
  public Hash64Mmu(GuestHtab htab, MmuOptions options) {
    this(htab, options, false);
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
   * Translates {@code ea} for {@code access} (spec 3.2-3.6). With {@code guestVisible=false} no R/C
   * bit is written.
   */
  @Override
  public XlateResult xlate(
      Cpu64State cpu, long ea, Access access, boolean guestVisible, XlateTrace t) {
    boolean iswrite = access.isWrite();
    if (MagicPage.hits(cpu, ea)) {
      return MagicPage.xlate(cpu, ea, eaToVp(cpu, ea), t);
    }
    SlbEntry slbe = cpu.findSlbe(ea);
    if (slbe == null) {
      Traces.step(
          t, "no SLB entry for ESID 0x" + Long.toHexString(ea >>> 28) + ": result EINVAL (-22)");
      return XlateResult.EINVAL;
    }
    long vVal = vVal(slbe, ea, false);
    boolean key = cpu.msrPr() ? slbe.kp() : slbe.ks();
    if (t != null) {
      t.step(
          String.format(
              "SLB: ESID 0x%x -> VSID 0x%x (%s, base page %s, Ks=%d, Kp=%d); vpn 0x%x",
              slbe.esid(),
              slbe.vsid(),
              slbe.tb() ? "1T" : "256M",
              slbe.basePageSize(),
              slbe.ks() ? 1 : 0,
              slbe.kp() ? 1 : 0,
              vpn(slbe, ea)));
    }
    for (int pass = 0; pass < 2; pass++) {
      boolean second = pass == 1;
      long pteg = ptegAddr(slbe, ea, second);
      long want = second ? vVal | HPTE_V_SECONDARY : vVal;
      if (t != null) {
        t.step(
            String.format(
                "%s PTEG 0x%x, compare (v & 0x%x) == 0x%x",
                second ? "secondary" : "primary", pteg, V_MASK, want));
      }
      for (int slot = 0; slot < 8; slot++) {
        long vAddr = pteg + slot * 16L;
        if ((htab.word(vAddr) & V_MASK) != want) {
          continue;
        }
        long r = htab.word(vAddr + 8);
        PageSize pgsize = slbe.large() ? PageSize.SIZE_16M : PageSize.SIZE_4K;
        if (slbe.large() && cpu.multiPageSize()) {
          pgsize = decodePageSize(slbe, r);
          if (pgsize == null) {
            Traces.step(
                t, "slot " + slot + " matches but its page-size encoding is wrong: skipped");
            continue;
          }
        }
        return found(cpu, slbe, ea, iswrite, key, vAddr, slot, r, pgsize, t, guestVisible);
      }
      Traces.step(t, "no match in the " + (second ? "secondary" : "primary") + " PTEG");
    }
    Traces.step(t, "result: ENOENT (-2)");
    return XlateResult.ENOENT;
  }

  private XlateResult found(
      Cpu64State cpu,
      SlbEntry slbe,
      long ea,
      boolean iswrite,
      boolean key,
      long vAddr,
      int slot,
      long r,
      PageSize pgsize,
      XlateTrace t,
      boolean guestVisible) {
    int pp = (int) (r & HPTE_R_PP) | (key ? 4 : 0) | ((r & HPTE_R_PP0) != 0 ? 8 : 0);
    boolean mayWrite = pp == 0 || pp == 1 || pp == 2 || pp == 6;
    boolean mayRead = mayWrite || pp == 3 || pp == 5 || pp == 7 || pp == 10;
    boolean mayExecute = (r & HPTE_R_N) == 0;
    long psizeMask = pgsize.offsetMask();
    long raddr = (r & HPTE_R_RPN & ~psizeMask) | (ea & psizeMask);
    boolean refused = rules.refuses(iswrite, mayRead, mayWrite);
    long after =
        rules.updateRc(
            htab,
            vAddr + 8,
            r,
            XlateRules.RcLayout.BOOK3S_64,
            XlateRules.setsR(mayRead),
            rules.setsC(iswrite, mayWrite),
            guestVisible);
    XlateStatus status = refused ? XlateStatus.EPERM : XlateStatus.OK;
    if (t != null) {
      t.step(
          String.format(
              "slot %d matches: dword1 0x%x, PP0=%d PP=%d key=%d -> %s%s; raddr 0x%x (%s)",
              slot,
              r,
              (r & HPTE_R_PP0) != 0 ? 1 : 0,
              r & HPTE_R_PP,
              key ? 1 : 0,
              mayWrite ? "read/write" : mayRead ? "read-only" : "no access",
              mayExecute ? "" : ", no-execute",
              raddr,
              pgsize));
      t.step(
          String.format(
              "R/C: dword1 0x%x -> 0x%x (R %s, C %s)",
              r, after, Traces.bit(r, after, HPTE_R_R), Traces.bit(r, after, HPTE_R_C)));
      t.step("result: " + status + " (" + status.errno() + ")");
    }
    GuestPte pte = new GuestPte(ea, eaToVp(cpu, ea), raddr, mayRead, mayWrite, mayExecute, pgsize);
    return new XlateResult(
        status,
        pte,
        XlateResult.rcOf(r, HPTE_R_R, HPTE_R_C),
        XlateResult.rcOf(after, HPTE_R_R, HPTE_R_C));
  }

  /** {@code decode_pagesize}: the large-page encoding check of spec 3.3, or null to skip. */
  private static PageSize decodePageSize(SlbEntry slbe, long r) {
    return switch (slbe.basePageSize()) {
      case SIZE_64K -> (r & 0xF000) == 0x1000 ? PageSize.SIZE_64K : null;
      case SIZE_16M -> (r & 0xFF000) == 0 ? PageSize.SIZE_16M : null;
      case SIZE_4K -> null;
    };
  }

  /** The VPN in 4 KiB units (spec 3.2). */
  public static long vpn(SlbEntry slbe, long ea) {
    int sidShift = slbe.sidShift();
    return ((ea & slbe.offsetMask()) >>> 12) | (slbe.vsid() << (sidShift - 12));
  }

  /** The PTEG's guest-real address (spec 3.2). */
  public long ptegAddr(SlbEntry slbe, long ea, boolean secondary) {
    long off = ea & slbe.offsetMask();
    int pshift = slbe.basePageSize().shift();
    long hash =
        slbe.tb()
            ? slbe.vsid() ^ (slbe.vsid() << 25) ^ (off >>> pshift)
            : slbe.vsid() ^ (off >>> pshift);
    hash &= HASH_MASK_39;
    if (secondary) {
      hash = ~hash & HASH_MASK_39;
    }
    long sdr1 = htab.sdr1();
    long nPteg = 1L << ((sdr1 & 0x1F) + 11);
    return (sdr1 & 0xFFFFFFFFFFFC0000L) | ((hash & (nPteg - 1)) << 7);
  }

  /** The compare value of spec 3.4 for the primary ({@code secondary=false}) search. */
  public static long vVal(SlbEntry slbe, long ea, boolean secondary) {
    int p = slbe.basePageSize().shift();
    long avpn = ((ea & slbe.offsetMask()) >>> p) | (slbe.vsid() << (slbe.sidShift() - p));
    avpn = p < 16 ? avpn >>> (16 - p) : avpn << (p - 16);
    return (avpn & HPTE_V_AVPN)
        | (slbe.tb() ? HPTE_V_1T : 0)
        | (slbe.large() ? HPTE_V_LARGE : 0)
        | HPTE_V_VALID
        | (secondary ? HPTE_V_SECONDARY : 0);
  }

  /** {@code ea_to_vp}: the VPN through the SLB, 0 when no entry translates {@code ea}. */
  @Override
  public long eaToVp(Cpu64State cpu, long ea) {
    SlbEntry slbe = cpu.findSlbe(ea);
    return slbe == null ? 0 : vpn(slbe, ea);
  }

  /**
   * {@code kvmppc_mmu_book3s_64_esid_to_vsid} (spec 5.2): the tagged guest VSID of segment {@code
   * esid}, or {@link org.mmumesh.common.VsidTags#NO_VSID} when relocation is on and no SLB entry
   * (nor the magic page) covers it.
   */
  public long esidToVsid(Cpu64State cpu, long esid) {
    long ea = esid << 28;
    long gvsid = esid;
    PageSize pagesize = PageSize.SIZE_64K;
    boolean dr = cpu.msrDr();
    boolean ir = cpu.msrIr();
    SlbEntry slb = null;
    if (dr || ir) {
      slb = cpu.findSlbe(ea);
      if (slb != null) {
        gvsid = slb.vsid();
        pagesize = slb.basePageSize();
        if (slb.tb()) {
          gvsid <<= 40 - 28;
          gvsid |= esid & ((1L << (40 - 28)) - 1);
          gvsid |= VSID_1T;
        }
      }
    }
    if (!dr && !ir) {
      gvsid = VSID_REAL | esid;
    } else if (!dr) {
      gvsid |= VSID_REAL_IR;
    } else if (!ir) {
      gvsid |= VSID_REAL_DR;
    } else if (slb == null) {
      long mpEa = cpu.magicPageEa();
      if (mpEa != 0 && esid == (mpEa >>> 28) && !cpu.msrPr()) {
        return VSID_REAL | esid;
      }
      return NO_VSID;
    }
    if (host64kPages
        && pagesize.shift() >= PageSize.SIZE_64K.shift()
        && !(cpu.magicPageEa() != 0 && (cpu.magicPageEa() >>> 28) == esid)) {
      gvsid |= VSID_64K;
    }
    if (cpu.msrPr()) {
      gvsid |= VSID_PR;
    }
    return gvsid;
  }

  // ---- What a guest kernel does to its HTAB -------------------------------------------------

  /**
   * Inserts an HPTE for {@code ea} like H_ENTER: the first invalid slot of the primary PTEG, else
   * of the secondary (with H set). The V word comes from the SLB entry (AVPN, B, L); {@code r} is
   * the second doubleword as given (RPN, large-page encoding, R, C, WIMG, N, PP0, PP).
   *
   * @return the guest-real address of the V word, or -1 when both PTEGs are full (nothing changed)
   * @throws IllegalArgumentException when no SLB entry translates {@code ea}
   */
  public long enter(Cpu64State cpu, long ea, long r) {
    SlbEntry slbe = requireSlbe(cpu, ea);
    for (boolean second : new boolean[] {false, true}) {
      long pteg = ptegAddr(slbe, ea, second);
      for (int slot = 0; slot < 8; slot++) {
        long vAddr = pteg + slot * 16L;
        if ((htab.word(vAddr) & HPTE_V_VALID) == 0) {
          htab.setWord(vAddr + 8, r);
          htab.setWord(vAddr, vVal(slbe, ea, second));
          return vAddr;
        }
      }
    }
    return -1;
  }

  /** The HPTE translating {@code ea} (first match, primary then secondary), or -1; no effects. */
  public long findPte(Cpu64State cpu, long ea) {
    SlbEntry slbe = cpu.findSlbe(ea);
    if (slbe == null) {
      return -1;
    }
    for (boolean second : new boolean[] {false, true}) {
      long pteg = ptegAddr(slbe, ea, second);
      long want = vVal(slbe, ea, second);
      for (int slot = 0; slot < 8; slot++) {
        if ((htab.word(pteg + slot * 16L) & V_MASK) == want) {
          return pteg + slot * 16L;
        }
      }
    }
    return -1;
  }

  /**
   * Removes the HPTE translating {@code ea} like H_REMOVE, returning the host flush for its page
   * size (spec 5.6), or null when nothing matched (nothing changed).
   */
  public HostFlush remove(Cpu64State cpu, long ea) {
    long addr = findPte(cpu, ea);
    if (addr < 0) {
      return null;
    }
    SlbEntry slbe = cpu.findSlbe(ea);
    htab.setWord(addr, 0);
    long mask =
        switch (slbe.large() ? slbe.basePageSize() : PageSize.SIZE_4K) {
          case SIZE_4K -> VFLUSH_4K;
          case SIZE_64K -> VFLUSH_64K;
          case SIZE_16M -> VFLUSH_16M;
        };
    return new HostFlush.PteVflush(vpn(slbe, ea), mask);
  }

  /** Doubleword 1 of the HPTE whose V word is at {@code pteAddr}. */
  public long readWord1(long pteAddr) {
    return htab.word(pteAddr + 8);
  }

  /**
   * Clears R and/or C in the HPTE at {@code pteAddr}; the guest must then tlbie the page.
   *
   * @return doubleword 1 before the change
   */
  public long clearRc(long pteAddr, long bits) {
    Checks.bitsClear("bits", bits, ~(HPTE_R_R | HPTE_R_C), "allowed: R 0x100 and C 0x80");
    long r = htab.word(pteAddr + 8);
    htab.setWord(pteAddr + 8, r & ~bits);
    return r;
  }

  /**
   * A guest {@code tlbie} (spec 5.6): POWER6+ (multi-page-size CPUs) take the page size from RB's L
   * bit and encoding; older CPUs from the instruction's L field.
   */
  public HostFlush tlbie(Cpu64State cpu, long va, boolean large) {
    long mask = VFLUSH_4K;
    if (cpu.multiPageSize()) {
      if ((va & 1) != 0) {
        mask = (va & 0xF000) == 0x1000 ? VFLUSH_64K : VFLUSH_16M;
      }
    } else if (large) {
      mask = VFLUSH_16M;
    }
    return new HostFlush.PteVflush(va >>> 12, mask);
  }

  private static SlbEntry requireSlbe(Cpu64State cpu, long ea) {
    SlbEntry slbe = cpu.findSlbe(ea);
    if (slbe == null) {
      throw new IllegalArgumentException(
          "ea: no valid SLB entry translates 0x"
              + Long.toHexString(ea)
              + "; allowed: an address in a segment loaded with slbmte");
    }
    return slbe;
  }
}
