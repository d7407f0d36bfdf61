package org.mmumesh.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The raw Pekko baseline of issue 4's benchmarks: chains of tell-based request/reply pairs between
 * plain typed actors, with the hop count of one mesh fault and the mesh's topology and concurrency.
 *
 * <p><b>Topology.</b> Per VM a "host" and a "guest" {@link ChainServer} (the mesh's {@code HostMmu}
 * and {@code GuestMmu}), one "frames" server for the host (the mesh's {@code PageFrame}), and per
 * vCPU one {@link ChainClient} (the mesh's {@code Vcpu}), each with one request outstanding at a
 * time. A chain is the shape of a fault that KVM maps: {@code Lookup} (host), {@code Xlate}
 * (guest), {@code GfnToPfnProt} (frames), {@code MapPage} (host), then the one-way {@code
 * ReleaseLease} (frames): {@value #ROUND_TRIPS} request/reply pairs (8 messages) and 1 one-way
 * message. {@link MeshBenchmark}'s Javadoc explains why this is the mean hop count of a mesh fault.
 *
 * <p><b>Settings.</b> The actor system has the settings of {@code MeshEngine}'s (local provider,
 * {@code CborSerializable} bound to Jackson CBOR, Java serialization off, default dispatcher), so
 * message costs are comparable; it is created once and reused by every {@link #run}, which times
 * only the chains (from spawning the clients to the last chain's completion).
 */
public final class RawChainBaseline implements AutoCloseable {

  /** Request/reply pairs per chain. */
  public static final int ROUND_TRIPS = 4;

  /** One-way messages per chain. */
  public static final int ONE_WAY = 1;

  private final ActorSystem<Void> system;
  private final int vms;
  private final int vcpus;
  private final List<ActorRef<ChainServer.Command>> hosts = new ArrayList<>();
  private final List<ActorRef<ChainServer.Command>> guests = new ArrayList<>();
  private final ActorRef<ChainServer.Command> frames;
  private int runs;

  /** What one {@link #run} did. */
  public record Result(long nanos, long chains, long requests, long releases) {
    /** Chains completed per second. */
    public double chainsPerSecond() {
      return chains / (nanos / 1e9);
    }
  }

  /**
   * The settings of {@code MeshEngine}'s actor system (its {@code config()} is not public, so they
   * are repeated here): local, CBOR bindings, no Java serialization.
   */
  public static Config meshSettings() {
    return ConfigFactory.parseString(
            "pekko.actor.provider = local\n"
                + "pekko.actor.serialization-bindings {\n"
                + "  \"org.mmumesh.common.CborSerializable\" = jackson-cbor\n"
                + "}\n"
                + "pekko.actor.allow-java-serialization = off\n"
                + "pekko.log-dead-letters-during-shutdown = off\n")
        .withFallback(ConfigFactory.load());
  }

  /**
   * Starts the actor system and the servers.
   *
   * @param vms VMs (a host and a guest server each), 1 to 1024
   * @param vcpus clients per VM, 1 to 1024
   */
  public RawChainBaseline(int vms, int vcpus) {
    if (vms < 1 || vms > 1024 || vcpus < 1 || vcpus > 1024) {
      throw new IllegalArgumentException(
          "vms: " + vms + ", vcpus: " + vcpus + "; allowed 1 to 1024 each");
    }
    this.vms = vms;
    this.vcpus = vcpus;
    this.system = ActorSystem.create(Behaviors.empty(), "mmumesh-raw", meshSettings());
    for (int vm = 0; vm < vms; vm++) {
      hosts.add(system.systemActorOf(ChainServer.create(), "host-" + vm, Props.empty()));
      guests.add(system.systemActorOf(ChainServer.create(), "guest-" + vm, Props.empty()));
    }
    frames = system.systemActorOf(ChainServer.create(), "frames", Props.empty());
  }

  /** Clients: {@code vms * vcpus}. */
  public int clients() {
    return vms * vcpus;
  }

  /**
   * Runs {@code chainsPerClient} chains on every client at once and waits for all of them; the
   * servers' counts in the result are the ones of this run.
   */
  public Result run(long chainsPerClient) {
    long[] before = counts();
    int r = runs++;
    List<CompletableFuture<Long>> done = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int vm = 0; vm < vms; vm++) {
      List<ActorRef<ChainServer.Command>> route =
          List.of(hosts.get(vm), guests.get(vm), frames, hosts.get(vm));
      for (int v = 0; v < vcpus; v++) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        done.add(f);
        system.systemActorOf(
            ChainClient.create(route, frames, chainsPerClient, f),
            "client-" + r + "-" + vm + "-" + v,
            Props.empty());
      }
    }
    long chains = 0;
    for (CompletableFuture<Long> f : done) {
      chains += await(f, Duration.ofMinutes(10));
    }
    long nanos = System.nanoTime() - t0;
    long[] after = counts();
    return new Result(nanos, chains, after[0] - before[0], after[1] - before[1]);
  }

  /** Requests and releases counted by every server so far. */
  private long[] counts() {
    List<ActorRef<ChainServer.Command>> all = new ArrayList<>(hosts);
    all.addAll(guests);
    all.add(frames);
    long[] c = new long[2];
    for (ActorRef<ChainServer.Command> s : all) {
      ChainServer.Counts n =
          await(
              AskPattern.<ChainServer.Command, ChainServer.Counts>ask(
                      s, ChainServer.GetCounts::new, Duration.ofSeconds(30), system.scheduler())
                  .toCompletableFuture(),
              Duration.ofSeconds(35));
      c[0] += n.requests();
      c[1] += n.releases();
    }
    return c;
  }

  private static <T> T await(CompletableFuture<T> f, Duration timeout) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("raw baseline: interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("raw baseline: no answer within " + timeout + ": " + e, e);
    }
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // the results stand; the system is going away
    }
  }
}
