package org.mmumesh.ksm;

/**
 * The merge handshake hook of {@link KsmScanner} (architecture section 4: "write-protect first,
 * remap after the host MMUs confirm that no writable mapping remains").
 *
 * <p>In the kernel, {@code write_protect_page} calls the MMU notifiers synchronously, so when it
 * returns no secondary MMU maps the page writable any more and {@code try_to_merge_one_page} may go
 * on. In the actor mesh the notifier event is a message the host MMUs acknowledge later. A gated
 * scanner therefore, at {@code try_to_merge_two_pages} / {@code try_to_merge_with_ksm_page} and
 * before changing anything for the merge, write-protects every page the merge will write-protect
 * and asks this gate whether an invalidation of any of them still has acknowledgements outstanding;
 * if so it leaves the merge, rewinds its cursor to this same page and ends the batch early ({@link
 * KsmScanner#handshakePending()}). When the batch that follows re-processes the page, the pages are
 * already read-only (no new event), and the merge happens only if the content is still the one seen
 * before (the checksum and content checks of spec 7.4 run again).
 *
 * <p>{@link #SYNCHRONOUS} (the default, used by the sequential engine) is the kernel's behaviour:
 * nothing is ever outstanding and the scanner does not write-protect ahead, so its behaviour is
 * exactly the ungated one.
 */
@FunctionalInterface
public interface WriteProtectGate {
  /** Notifier callbacks complete synchronously: never wait, never write-protect ahead. */
  WriteProtectGate SYNCHRONOUS = (vm, hvaPage) -> false;

  /**
   * True if an invalidation of host page {@code hvaPage} of VM {@code vm} was sent and not yet
   * acknowledged by every host MMU (a writable mapping may remain), e.g. {@code
   * PageFrames::invalidationPending}.
   */
  boolean acksOutstanding(int vm, long hvaPage);
}
