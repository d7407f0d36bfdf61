/**
 * The actor shells of {@code org.mmumesh.pageframe}: Pekko behaviours that route messages to the
 * pure cores of {@code org.mmumesh.pageframe} (module page-frame) and own their state.
 */
package org.mmumesh.pageframe.actor;
