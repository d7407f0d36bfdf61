/**
 * The actor shells of {@code org.mmumesh.hostmmu}: Pekko behaviours that route messages to the pure
 * cores of {@code org.mmumesh.hostmmu} (module host-mmu) and own their state.
 */
package org.mmumesh.hostmmu.actor;
