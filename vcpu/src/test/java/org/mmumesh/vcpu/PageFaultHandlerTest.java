package org.mmumesh.vcpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.mmumesh.common.Access;
import org.mmumesh.common.GuestPte;
import org.mmumesh.common.MmuOptions;
import org.mmumesh.common.PageSize;
import org.mmumesh.common.Policy;
import org.mmumesh.common.Quirk;
import org.mmumesh.common.VsidTags;
import org.mmumesh.guestmmu.Cpu64State;
import org.mmumesh.guestmmu.XlateResult;
import org.mmumesh.guestmmu.XlateStatus;
import org.mmumesh.pageframe.PfnResult;
import org.mmumesh.pageframe.PfnStatus;

class PageFaultHandlerTest {
  private static final long EA = 0x10005000L;
  private static final long GVSID = 0x1234L;
  private static final GuestPte RW =
      new GuestPte(EA, 0x12340005L, 0xAB000L, true, true, true, PageSize.SIZE_4K);

  private static PageFaultHandler handler(Policy p) {
    return new PageFaultHandler(MmuOptions.defaults(p));
  }

  private static Cpu64State cpu() {
    return new Cpu64State().setMsr(true, true, true);
  }

  private static XlateResult ok(GuestPte pte, boolean cAfter) {
    return new XlateResult(
        XlateStatus.OK, pte, XlateResult.R, XlateResult.R | (cAfter ? XlateResult.C : 0));
  }

  @Test
  void tv33_noHpteLoadOnAKsmPage_asksForReadAccess_andMapsReadOnly() {
    PageFaultHandler h = handler(Policy.FIXED);
    FaultStep s = h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    assertThat(s).isEqualTo(new FaultStep.Xlate(EA, Access.LOAD, true));
    s = h.onXlated(ok(RW, false), GVSID);
    assertThat(s).isEqualTo(new FaultStep.GfnToPfn(0xAB, false));
    s = h.onPfn(new PfnResult(PfnStatus.OK, 77, false, 5));
    assertThat(s).isEqualTo(new FaultStep.MapPage(RW, GVSID, 77, false, -1));
    assertThat(h.onMapped(true)).isEqualTo(new FaultStep.Resume(false));
    assertThat(h.busy()).isFalse();
  }

  @Test
  void legacy_asksForWriteAccessOnALoad() {
    PageFaultHandler h = handler(Policy.LEGACY);
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    assertThat(h.onXlated(ok(RW, true), GVSID)).isEqualTo(new FaultStep.GfnToPfn(0xAB, true));
  }

  @Test
  void tv34_protfaultStore_unmapsThenMapsWritable() {
    PageFaultHandler h = handler(Policy.FIXED);
    FaultStep s = h.onFault(HostFault.protection(EA), cpu());
    assertThat(s).isEqualTo(new FaultStep.Xlate(EA, Access.STORE, true));
    assertThat(h.onXlated(ok(RW, true), GVSID)).isEqualTo(new FaultStep.GfnToPfn(0xAB, true));
    assertThat(h.onPfn(new PfnResult(PfnStatus.OK, 90, true, 6)))
        .isEqualTo(new FaultStep.UnmapPage(RW, false));
    assertThat(h.onUnmapped()).isEqualTo(new FaultStep.MapPage(RW, GVSID, 90, true, -1));
  }

  @Test
  void legacy_reflectsAProtectionDsiRaw_withoutTranslating() {
    FaultStep s = handler(Policy.LEGACY).onFault(HostFault.protection(EA), cpu());
    assertThat(s)
        .isEqualTo(new FaultStep.Reflect(0x300, EA, 0x0A000000L, 0, FaultStep.ReflectKind.RAW));
  }

  @Test
  void tv35_noHpteStoreOnAKsmPage_doesNotUnmap() {
    PageFaultHandler h = handler(Policy.FIXED);
    h.onFault(HostFault.noHpte(Access.STORE, EA), cpu());
    h.onXlated(ok(RW, true), GVSID);
    assertThat(h.onPfn(new PfnResult(PfnStatus.OK, 90, true, 6)))
        .isEqualTo(new FaultStep.MapPage(RW, GVSID, 90, true, -1));
  }

  @Test
  void eperm_reflectsDsisrWithNohpteClearedAndProtfaultSet() {
    PageFaultHandler h = handler(Policy.FIXED);
    h.onFault(HostFault.noHpte(Access.STORE, EA), cpu());
    XlateResult eperm = new XlateResult(XlateStatus.EPERM, RW, XlateResult.R, XlateResult.R);
    assertThat(h.onXlated(eperm, GVSID))
        .isEqualTo(
            new FaultStep.Reflect(0x300, EA, 0x0A000000L, 0, FaultStep.ReflectKind.PROTECTION));
  }

  @Test
  void enoent_reflectsTheHostDsisr_andEinvalIsASegmentInterrupt() {
    PageFaultHandler h = handler(Policy.FIXED);
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    assertThat(h.onXlated(new XlateResult(XlateStatus.ENOENT, null, -1, -1), GVSID))
        .isEqualTo(
            new FaultStep.Reflect(0x300, EA, 0x40000000L, 0, FaultStep.ReflectKind.NOT_FOUND));
    h.onFault(HostFault.noHpte(Access.IFETCH, EA), cpu());
    assertThat(h.onXlated(new XlateResult(XlateStatus.EINVAL, null, -1, -1), VsidTags.NO_VSID))
        .isEqualTo(new FaultStep.Reflect(0x480, EA, 0, 0, FaultStep.ReflectKind.SEGMENT));
  }

  @Test
  void tv40_isiOnNoExecute_isReflectedRawWithSrr1Bits() {
    FaultStep s = handler(Policy.FIXED).onFault(HostFault.noExecute(EA), cpu());
    assertThat(s)
        .isEqualTo(new FaultStep.Reflect(0x400, 0, 0, 0x10000000L, FaultStep.ReflectKind.RAW));
  }

  @Test
  void noSlot_isAnMmioExit() {
    PageFaultHandler h = handler(Policy.FIXED);
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    h.onXlated(ok(RW, false), GVSID);
    assertThat(h.onPfn(new PfnResult(PfnStatus.NOSLOT, -1, false, 1)))
        .isEqualTo(new FaultStep.MmioExit(0xAB000L, EA));
  }

  @Test
  void mapFailure_isIgnoredWithQ7_andReportedWithout() {
    PageFaultHandler fixed = handler(Policy.FIXED);
    fixed.onFault(HostFault.noHpte(Access.STORE, EA), cpu());
    fixed.onXlated(ok(RW, true), GVSID);
    assertThat(fixed.onPfn(new PfnResult(PfnStatus.RO_FAULT, -1, false, 1)))
        .isEqualTo(new FaultStep.Resume(true));
    PageFaultHandler strict = handler(Policy.STRICT);
    strict.onFault(HostFault.noHpte(Access.STORE, EA), cpu());
    strict.onXlated(ok(RW, true), GVSID);
    assertThat(strict.onPfn(new PfnResult(PfnStatus.RO_FAULT, -1, false, 1)))
        .isInstanceOfSatisfying(
            FaultStep.Failed.class,
            f -> assertThat(f.cause()).contains("gfn 0xab").contains("RO_FAULT"));
  }

  @Test
  void strict_keepsAWritableHostPageReadOnly_untilCIsSet_andGuardsTheMap() {
    PageFaultHandler h = handler(Policy.STRICT);
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    h.onXlated(ok(RW, false), GVSID);
    assertThat(h.onPfn(new PfnResult(PfnStatus.OK, 12, true, 9)))
        .isEqualTo(new FaultStep.MapPage(RW, GVSID, 12, false, 9));
    h.onMapped(true);
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    h.onXlated(ok(RW, true), GVSID);
    assertThat(h.onPfn(new PfnResult(PfnStatus.OK, 12, true, 9)))
        .as("C already set: writable")
        .isEqualTo(new FaultStep.MapPage(RW, GVSID, 12, true, 9));
  }

  @Test
  void tv32_fixedLoadOnAWrittenPrivatePage_mapsWritable_q4() {
    PageFaultHandler h = handler(Policy.FIXED);
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    h.onXlated(ok(RW, false), GVSID);
    assertThat(h.onPfn(new PfnResult(PfnStatus.OK, 12, true, 9)))
        .isEqualTo(new FaultStep.MapPage(RW, GVSID, 12, true, -1));
  }

  @Test
  void realMode_usesTheIdentityTranslationWithTheRealTag() {
    PageFaultHandler h = handler(Policy.FIXED);
    Cpu64State real = new Cpu64State().setMsr(false, false, false);
    FaultStep s = h.onFault(HostFault.noHpte(Access.LOAD, 0x4000L), real);
    assertThat(s).isEqualTo(new FaultStep.Xlate(0x4000L, Access.LOAD, false));
    FaultStep.GfnToPfn g = (FaultStep.GfnToPfn) h.onXlated(null, VsidTags.VSID_REAL);
    assertThat(g.gfn()).isEqualTo(4);
    assertThat(h.pte().vpage()).isEqualTo(4L | (VsidTags.VSID_REAL << 16));
    assertThat(h.pte().pageSize()).isEqualTo(PageSize.SIZE_64K);
  }

  @Test
  void splitMode_withoutASegment_isEinval() {
    PageFaultHandler h = handler(Policy.FIXED);
    Cpu64State split = new Cpu64State().setMsr(false, false, true);
    h.onFault(HostFault.noHpte(Access.IFETCH, 0x4000L), split);
    FaultStep s = h.onXlated(null, VsidTags.NO_VSID);
    assertThat(s)
        .isInstanceOfSatisfying(
            FaultStep.Reflect.class, r -> assertThat(r.vector()).isEqualTo(0x480));
  }

  @Test
  void repliesOutOfOrder_areRejected() {
    PageFaultHandler h = handler(Policy.FIXED);
    assertThatThrownBy(() -> h.onMapped(true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("onMapped is not allowed while the handler is IDLE");
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    assertThatThrownBy(() -> h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void q4Off_withLegacyStillMapsWritable_becauseLegacySetsCOnLoads() {
    PageFaultHandler h =
        new PageFaultHandler(
            MmuOptions.defaults(Policy.LEGACY).with(Quirk.Q4_C_CAN_BE_MISSED, false));
    h.onFault(HostFault.noHpte(Access.LOAD, EA), cpu());
    h.onXlated(ok(RW, true), GVSID);
    assertThat(((FaultStep.MapPage) h.onPfn(new PfnResult(PfnStatus.OK, 3, true, 1))).writable())
        .isTrue();
  }
}
