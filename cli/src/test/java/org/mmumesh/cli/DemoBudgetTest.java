package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmumesh.mesh.MemoryBudget;

/** How {@code demo} shares its memory budget among the clusters it runs at once. */
class DemoBudgetTest {
  private static long bytes(String budget) {
    return MemoryBudget.fromConfig(ConfigFactory.parseMap(Map.of(MemoryBudget.CONFIG_KEY, budget)))
        .budgetBytes();
  }

  @Test
  void auto_isWorkedOutOnce_andSharedAmongTheClusters() {
    long three = bytes(DemoCommand.budgetPerCluster("auto", 3));
    // together the three clusters claim no more than auto allows one cluster of this heap (with
    // nothing in use), however much of the heap was in use when it was worked out
    long wholeHeap = MemoryBudget.defaultBytes(Runtime.getRuntime().maxMemory(), 0);
    assertThat(three).isPositive();
    assertThat(3 * three).isLessThanOrEqualTo(wholeHeap);
    assertThat(DemoCommand.budgetPerCluster("auto", 3)).matches("[0-9]+");
  }

  @Test
  void aGivenSize_isEachClustersBudget() {
    assertThat(DemoCommand.budgetPerCluster("512m", 3)).isEqualTo("512m");
    assertThat(bytes(DemoCommand.budgetPerCluster("512m", 3))).isEqualTo(512L << 20);
  }
}
