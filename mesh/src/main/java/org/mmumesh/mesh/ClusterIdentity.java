package org.mmumesh.mesh;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorSelection;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.Props;
import org.apache.pekko.pattern.Patterns;
import org.mmumesh.common.CborSerializable;

/**
 * A cluster's identity: its name ({@code mmumesh.mesh.cluster-name}, {@code --cluster-name}) and
 * the mmumesh version its nodes run. A node checks it with each seed node <i>before</i> it joins
 * (issue 12, "Bad input"): a node of another cluster, or of another mmumesh version (whose messages
 * and entities may not match this one's), is refused with one line naming both names or both
 * versions, and nothing is left running; without the check such a node would wait out the startup
 * timeout and blame the seed nodes, or worse, join and exchange messages it does not understand.
 *
 * <p>Every node runs a small classic actor at {@value #PATH} answering {@link Query} with its
 * {@link Identity} (Artery delivers it before any cluster membership). The joining node asks every
 * seed node but itself, in parallel, and waits up to a bound for the answers: a seed that does not
 * answer (not started yet, unreachable) gives no verdict, and the join goes on as before (its own
 * timeout names the seed nodes); any answer that differs is a refusal. The node joins its seed
 * nodes only after this ({@link MeshNodes#join}), so no refused node ever becomes a member.
 *
 * @see MeshNodes#join
 */
public final class ClusterIdentity {
  private ClusterIdentity() {}

  /** The actor's name under {@code /system}. */
  static final String NAME = "mmumesh-identity";

  /**
   * Where the actor lives on every node (also the cross-node benchmark's echo: one CBOR message
   * each way over Artery, the shape of a mesh request/reply).
   */
  public static final String PATH = "/system/" + NAME;

  /** The HOCON key that overrides the version (tests; never needed in a deployment). */
  static final String VERSION_KEY = "mmumesh.mesh.version";

  /** The mmumesh version of this build (Maven resource filtering), or {@code unknown}. */
  public static final String BUILD_VERSION = buildVersion();

  /** A node's identity. */
  public record Identity(String clusterName, String version) implements CborSerializable {}

  /** Asks a node for its {@link Identity}; {@code from} names the asking node (logs). */
  public record Query(String from) implements CborSerializable {}

  /** This node's identity from its configuration. */
  static Identity of(Config c) {
    String version = c.hasPath(VERSION_KEY) ? c.getString(VERSION_KEY) : BUILD_VERSION;
    return new Identity(c.getString(NodeSettings.Setting.CLUSTER_NAME.key), version);
  }

  /** Starts the identity actor on {@code system}, answering with {@code own}. */
  static void start(org.apache.pekko.actor.ActorSystem system, Identity own) {
    ((org.apache.pekko.actor.ExtendedActorSystem) system)
        .systemActorOf(Props.create(Responder.class, () -> new Responder(own)), NAME);
  }

  /**
   * Asks every seed in {@code seeds} but {@code self} for its identity, waiting up to {@code wait}
   * for all answers.
   *
   * @return the refusal, naming the seed and both names or both versions; empty if every seed that
   *     answered matches (or none answered)
   */
  static Optional<String> mismatch(
      org.apache.pekko.actor.ActorSystem system,
      Address self,
      List<Address> seeds,
      Identity own,
      Duration wait) {
    List<CompletableFuture<Optional<String>>> answers = new ArrayList<>();
    for (Address seed : seeds) {
      if (seed.equals(self)) {
        continue;
      }
      ActorSelection sel = system.actorSelection(seed + PATH);
      CompletionStage<Object> asked = Patterns.ask(sel, new Query(self.toString()), wait);
      answers.add(
          asked
              .toCompletableFuture()
              .handle(
                  (answer, failure) ->
                      answer instanceof Identity other
                          ? verdict(seed, own, other)
                          : Optional.<String>empty()));
    }
    for (CompletableFuture<Optional<String>> a : answers) {
      Optional<String> refusal = a.join();
      if (refusal.isPresent()) {
        return refusal;
      }
    }
    return Optional.empty();
  }

  /** The refusal for a seed whose identity is {@code other}, or empty if it matches {@code own}. */
  static Optional<String> verdict(Address seed, Identity own, Identity other) {
    String at = seed.getHost().orElse("?") + ":" + seed.getPort().map(String::valueOf).orElse("?");
    if (!own.clusterName().equals(other.clusterName())) {
      return Optional.of(
          NodeSettings.Setting.CLUSTER_NAME.option
              + ": this node's cluster is '"
              + own.clusterName()
              + "' but the seed node "
              + at
              + " belongs to the cluster '"
              + other.clusterName()
              + "'; give every node of one cluster the same "
              + NodeSettings.Setting.CLUSTER_NAME.option
              + " ("
              + NodeSettings.Setting.CLUSTER_NAME.env
              + ", "
              + NodeSettings.Setting.CLUSTER_NAME.key
              + "), or point "
              + NodeSettings.Setting.SEED_NODES.option
              + " at this cluster's seed nodes");
    }
    if (!own.version().equals(other.version())) {
      return Optional.of(
          NodeSettings.Setting.SEED_NODES.option
              + ": this node runs mmumesh "
              + own.version()
              + " but the seed node "
              + at
              + " of cluster '"
              + other.clusterName()
              + "' runs mmumesh "
              + other.version()
              + "; every node of a cluster must run the same version (their messages and"
              + " entities differ): start this node from the cluster's distribution");
    }
    return Optional.empty();
  }

  private static String buildVersion() {
    try (InputStream in =
        ClusterIdentity.class.getResourceAsStream("/mmumesh-version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown");
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Answers every {@link Query} with the node's identity. */
  static final class Responder extends AbstractActor {
    private final Identity own;

    Responder(Identity own) {
      this.own = own;
    }

    @Override
    public Receive createReceive() {
      return receiveBuilder().match(Query.class, q -> getSender().tell(own, getSelf())).build();
    }
  }
}
