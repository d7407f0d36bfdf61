/**
 * The actor shells of {@code org.mmumesh.vcpu}: Pekko behaviours that route messages to the pure
 * cores of {@code org.mmumesh.vcpu} (module vcpu) and own their state.
 */
package org.mmumesh.vcpu.actor;
