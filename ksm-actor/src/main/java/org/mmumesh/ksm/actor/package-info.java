/**
 * The actor shells of {@code org.mmumesh.ksm}: Pekko behaviours that route messages to the pure
 * cores of {@code org.mmumesh.ksm} (module ksm) and own their state.
 */
package org.mmumesh.ksm.actor;
