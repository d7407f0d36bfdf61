/**
 * The actor shells of {@code org.mmumesh.guestmmu}: Pekko behaviours that route messages to the
 * pure cores of {@code org.mmumesh.guestmmu} (module guest-mmu) and own their state.
 */
package org.mmumesh.guestmmu.actor;
