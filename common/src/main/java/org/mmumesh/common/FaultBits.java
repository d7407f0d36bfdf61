package org.mmumesh.common;

/** Exception vectors, DSISR and SRR1 bits of spec 6.1. */
public final class FaultBits {
  private FaultBits() {}

  /** Data storage interrupt. */
  public static final int VEC_DSI = 0x300;

  /** Data segment interrupt (DSI + 0x80). */
  public static final int VEC_DSEG = 0x380;

  /** Instruction storage interrupt. */
  public static final int VEC_ISI = 0x400;

  /** Instruction segment interrupt (ISI + 0x80). */
  public static final int VEC_ISEG = 0x480;

  /** DSISR: no HPTE found. */
  public static final long DSISR_NOHPTE = 0x40000000L;

  /** DSISR: protection fault. */
  public static final long DSISR_PROTFAULT = 0x08000000L;

  /** DSISR: the access was a store. */
  public static final long DSISR_ISSTORE = 0x02000000L;

  /** SRR1 (ISI): not found in the HTAB. */
  public static final long SRR1_NOTFOUND = 0x40000000L;

  /** SRR1 (ISI): no-execute or guarded. */
  public static final long SRR1_NOEXEC_GUARD = 0x10000000L;

  /** SRR1 (ISI): protection. */
  public static final long SRR1_PROTFAULT = 0x08000000L;

  /** The SRR1 bits copied into the guest MSR on a raw ISI reflection. */
  public static final long SRR1_REFLECT_RAW_MASK = 0x58000000L;

  /** The SRR1 bits copied into the guest MSR by handle_pagefault's reflections. */
  public static final long SRR1_REFLECT_MASK = 0xF8000000L;
}
