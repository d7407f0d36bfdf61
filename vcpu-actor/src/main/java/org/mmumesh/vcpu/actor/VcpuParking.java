package org.mmumesh.vcpu.actor;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.mmumesh.common.Counts;

/**
 * One node's parked vCPUs: the state a passivated {@link Vcpu} entity keeps until it starts again,
 * keyed by entity id ({@code vm-<v>/vcpu-<n>}). An idle vCPU passivates after {@value
 * #PASSIVATE_AFTER_IDLE_KEY} (its biggest allocation, the TLB, goes with it, but for the entries
 * still valid, kept compactly); its counters, translation mode, known epoch, missed-C watch, cached
 * segment VSIDs, batch numbering and remembered replies are parked here, and the next incarnation
 * on this node takes them back ({@link #take}) and continues as if it had never stopped (see
 * docs/design.md section 6, "Passivation", for the one counter that differs, {@code SHOOTDOWNS}).
 *
 * <p>Readers of counters (metrics, host and VM stats) read a parked vCPU's counters here ({@link
 * #counters}) instead of asking the entity, which would start it again.
 *
 * <p><b>Node-local.</b> The store lives in this node's memory only: a vCPU whose shard is moved to
 * another node (a rebalance, or this node leaving) starts there with fresh state, its parked
 * counters and batch numbering lost (and the entry here is stale, should the shard ever come back).
 * Rebalancing stays off for that reason (as for the queued batches of a live vCPU); state that
 * follows an entity across nodes is issue 12's.
 */
public final class VcpuParking implements Extension {

  /**
   * The configuration key of the idle time after which a sharded vCPU parks ({@code off}: never).
   */
  public static final String PASSIVATE_AFTER_IDLE_KEY = "mmumesh.vcpu.passivate-after-idle";

  /**
   * {@value #PASSIVATE_AFTER_IDLE_KEY}: a positive duration, or {@code off} (also when absent):
   * null.
   *
   * @throws IllegalArgumentException naming the key and the allowed values
   */
  public static Duration idleTimeout(com.typesafe.config.Config config) {
    if (!config.hasPath(PASSIVATE_AFTER_IDLE_KEY)
        || "off".equals(config.getString(PASSIVATE_AFTER_IDLE_KEY))) {
      return null;
    }
    Duration d;
    try {
      d = config.getDuration(PASSIVATE_AFTER_IDLE_KEY);
    } catch (com.typesafe.config.ConfigException e) {
      d = null;
    }
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(
          PASSIVATE_AFTER_IDLE_KEY
              + ": '"
              + config.getString(PASSIVATE_AFTER_IDLE_KEY)
              + "' is not allowed; allowed: a positive duration (e.g. 2 minutes) or off");
    }
    return d;
  }

  /** What one parked vCPU keeps: its counters for readers, the rest opaque to the store. */
  record Entry(Counts counters, Object state) {}

  private final ConcurrentHashMap<String, Entry> parked = new ConcurrentHashMap<>();

  /** The extension id; {@link #getInstance} is what Pekko's extension loader calls. */
  public static final class Id extends ExtensionId<VcpuParking> {
    private static final Id INSTANCE = new Id();

    private Id() {}

    /** The one id. */
    public static Id getInstance() {
      return INSTANCE;
    }

    @Override
    public VcpuParking createExtension(ActorSystem<?> system) {
      return new VcpuParking();
    }
  }

  private VcpuParking() {}

  /** The parked vCPUs of {@code system}'s node. */
  public static VcpuParking get(ActorSystem<?> system) {
    return Id.getInstance().apply(system);
  }

  /** Parks {@code state} of entity {@code entityId} (replacing an older one). */
  void park(String entityId, Counts counters, Object state) {
    parked.put(entityId, new Entry(counters, state));
  }

  /** Removes and returns what entity {@code entityId} parked, if anything. */
  Optional<Entry> take(String entityId) {
    return Optional.ofNullable(parked.remove(entityId));
  }

  /** The counters of vCPU {@code entityId} when it is parked on this node. */
  public Optional<Counts> counters(String entityId) {
    Entry e = parked.get(entityId);
    return e == null ? Optional.empty() : Optional.of(e.counters());
  }

  /** How many vCPUs are parked on this node. */
  public int size() {
    return parked.size();
  }
}
