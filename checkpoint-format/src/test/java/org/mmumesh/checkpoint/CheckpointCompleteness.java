package org.mmumesh.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The checkpoint tests' completeness guard (issue 13: a state not in the checkpoint is a silent
 * divergence): every instance field of each checkpointed class is either written by its {@code
 * checkpoint()} or listed as not written (derived, configuration, wiring, scratch), so a field
 * added later without checkpoint support fails its module's test. Shared by the cores' tests
 * through this module's test-jar.
 */
public final class CheckpointCompleteness {
  private CheckpointCompleteness() {}

  /**
   * Asserts that the instance fields of every class in {@code written} are exactly its written
   * fields plus its {@code notWritten} ones (a class missing from {@code notWritten} has none).
   */
  public static void assertEveryFieldListed(
      Map<Class<?>, ? extends Set<String>> written,
      Map<Class<?>, ? extends Set<String>> notWritten) {
    for (Map.Entry<Class<?>, ? extends Set<String>> e : written.entrySet()) {
      Class<?> c = e.getKey();
      Set<String> fields = new TreeSet<>();
      for (Field f : c.getDeclaredFields()) {
        if (!Modifier.isStatic(f.getModifiers()) && !f.isSynthetic()) {
          fields.add(f.getName());
        }
      }
      Set<String> listed = new TreeSet<>(e.getValue());
      Set<String> other = notWritten.get(c);
      if (other != null) {
        listed.addAll(other);
      }
      assertThat(fields)
          .as(
              "fields of %s: add a new one to the checkpoint (or to the not-written list, saying"
                  + " why)",
              c.getName())
          .isEqualTo(listed);
    }
  }
}
