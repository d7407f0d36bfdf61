package org.mmumesh.guestmmu;

/** What the guest kernel model does with a protection fault reflected to it. */
public enum ProtectionPolicy {
  /** Make the page read/write (PP=2) and tlbie it, then retry: the guest's own copy-on-write. */
  UPGRADE,
  /** Report the access failed (the guest would deliver SIGSEGV). */
  FAIL
}
