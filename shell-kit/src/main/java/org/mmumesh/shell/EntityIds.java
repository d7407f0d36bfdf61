package org.mmumesh.shell;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The structured sharding entity ids, written and parsed in one place: {@code host-<h>} (a host's
 * page frames and its ksmd), {@code vm-<v>} (a VM's guest and host MMU), {@code vm-<v>/vcpu-<n>} (a
 * vCPU). Parsing errors name the field {@code entityId} and the allowed form.
 */
public final class EntityIds {
  private EntityIds() {}

  /** The largest host or VM number in an id. */
  public static final int MAX_ID = Integer.MAX_VALUE;

  private static final Pattern HOST = Pattern.compile("host-([0-9]{1,10})");
  private static final Pattern VM = Pattern.compile("vm-([0-9]{1,10})");
  private static final Pattern VCPU = Pattern.compile("vm-([0-9]{1,10})/vcpu-([0-9]{1,4})");

  /** {@code host-<h>}. */
  public static String host(int host) {
    return "host-" + check("host", host, MAX_ID);
  }

  /** {@code vm-<v>}. */
  public static String vm(int vm) {
    return "vm-" + check("vm", vm, MAX_ID);
  }

  /** {@code vm-<v>/vcpu-<n>}, {@code n} 0 to {@code maxVcpu} (at most 9999: four digits). */
  public static String vcpu(int vm, int vcpu, int maxVcpu) {
    return "vm-" + check("vm", vm, MAX_ID) + "/vcpu-" + check("vcpu", vcpu, maxVcpu);
  }

  /** The host of {@code host-<h>}. */
  public static int hostOf(String entityId) {
    return number(match(HOST, entityId, "host-<h> with h 0 to " + MAX_ID), 1, MAX_ID, entityId);
  }

  /** The VM of {@code vm-<v>}. */
  public static int vmOf(String entityId) {
    return number(match(VM, entityId, "vm-<v> with v 0 to " + MAX_ID), 1, MAX_ID, entityId);
  }

  /** The {@code {vm, vcpu}} of {@code vm-<v>/vcpu-<n>}, {@code n} 0 to {@code maxVcpu}. */
  public static int[] vmAndVcpuOf(String entityId, int maxVcpu) {
    Matcher m =
        match(VCPU, entityId, "vm-<v>/vcpu-<n> with v 0 to " + MAX_ID + " and n 0 to " + maxVcpu);
    return new int[] {number(m, 1, MAX_ID, entityId), number(m, 2, maxVcpu, entityId)};
  }

  private static int check(String field, int value, int max) {
    if (value < 0 || value > max) {
      throw new IllegalArgumentException(
          field + ": " + value + " is out of range; allowed 0 to " + max);
    }
    return value;
  }

  private static Matcher match(Pattern p, String entityId, String allowed) {
    Matcher m = entityId == null ? null : p.matcher(entityId);
    if (m == null || !m.matches()) {
      throw new IllegalArgumentException(
          "entityId: '" + entityId + "' is not allowed; allowed " + allowed);
    }
    return m;
  }

  private static int number(Matcher m, int group, int max, String entityId) {
    long v = Long.parseLong(m.group(group));
    if (v > max) {
      throw new IllegalArgumentException(
          "entityId: '" + entityId + "' has " + v + " out of range; allowed 0 to " + max);
    }
    return (int) v;
  }
}
