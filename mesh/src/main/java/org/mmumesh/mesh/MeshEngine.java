package org.mmumesh.mesh;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.mmumesh.engine.EngineConfig;
import org.mmumesh.engine.GuestLayout;
import org.mmumesh.guestmmu.GuestMmu;
import org.mmumesh.pageframe.PageFrame;
import org.mmumesh.vcpu.VcpuSetup;
import org.mmumesh.workload.GuestImage;
import org.mmumesh.workload.WorkloadSpec;

/**
 * Runs a workload on the actor mesh, on one node in a local actor system named {@value
 * #SYSTEM_NAME} (architecture section 4): the {@link Guardian} wires the actors; this class then
 * creates each VM on the page frames as {@code SequentialEngine.createVm} does ({@code CreateVm},
 * memslot 0 over {@code [0, layout.memoryPages)} at host page 0, the boot image's pages populated),
 * feeds every vCPU its access source in {@code RunBatch}es (at most {@link #MAX_OUTSTANDING}
 * outstanding per vCPU), waits for every batch, and collects the vCPUs' counters, the final frame
 * contents of every gfn ({@code ReadFrames}) and the guest HTAB words ({@code DumpHtab}).
 *
 * <p>Differences from the sequential engine: <b>KSM is off</b> in the mesh (no KSM actor is wired
 * yet), and the host MMU applies Q8 full flushes at notifier time, where the sequential engine
 * defers them to guest entry, so exit and shadow-cache counts may differ; frame contents and guest
 * HTAB words do not. The vCPU's configuration follows {@link EngineConfig}: TLB entries and the
 * livelock bound.
 */
public final class MeshEngine {
  /** The actor system's name. */
  public static final String SYSTEM_NAME = "mmumesh-mesh";

  /** Accesses per {@code RunBatch}. */
  public static final int BATCH = 256;

  /** Batches outstanding per vCPU. */
  public static final int MAX_OUTSTANDING = 2;

  private static final Duration ASK = Duration.ofSeconds(30);

  private MeshEngine() {}

  /** The local actor system's configuration: CBOR bindings, no Java serialization, local. */
  static Config config() {
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
   * Runs {@code spec} with {@code cfg} and returns the counters, failures, frames and HTAB words.
   *
   * @throws IllegalArgumentException when the configuration does not fit the workload (a 64-bit
   *     guest on a 32-bit host)
   * @throws IllegalStateException when the mesh does not answer (a setup step was refused, or a
   *     step timed out)
   */
  public static MeshResult run(WorkloadSpec spec, EngineConfig cfg) {
    if (cfg.host32() && spec.mmu() == org.mmumesh.workload.MmuKind.BOOK3S_64) {
      throw new IllegalArgumentException(
          "host: a 64-bit guest cannot run on a 32-bit host (spec section 10); allowed: a 64-bit"
              + " host, or a 32-bit guest (mmu=32)");
    }
    Guardian.VcpuSetupOf setupOf =
        (vm, v) ->
            new VcpuSetup(
                vm,
                v,
                cfg.options(),
                cfg.tlbEntries(),
                cfg.maxFaultsPerAccess(),
                Duration.ofSeconds(10),
                3,
                MAX_OUTSTANDING,
                1024);
    ActorSystem<Guardian.Command> system =
        ActorSystem.create(Guardian.create(spec, cfg, setupOf), SYSTEM_NAME, config());
    try {
      return drive(system, spec);
    } finally {
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // the run's result stands; the system is going away
      }
    }
  }

  private static MeshResult drive(ActorSystem<Guardian.Command> system, WorkloadSpec spec) {
    GuestLayout layout = GuestLayout.of(spec.mmu(), spec.pagesPerVm());
    Guardian.Wiring w =
        ask(system, system, (ActorRef<Guardian.Wiring> r) -> new Guardian.GetWiring(r));
    ActorRef<PageFrame.Command> pf = w.frames();
    long id = 1;
    for (int vm = 0; vm < spec.vms(); vm++) {
      int v = vm;
      long rid = id++;
      expect(
          ask(system, pf, (ActorRef<PageFrame.VmReply> r) -> new PageFrame.CreateVm(rid, v, r)),
          PageFrame.VmCreated.class);
      long sid = id++;
      expect(
          ask(
              system,
              pf,
              (ActorRef<PageFrame.SlotReply> r) ->
                  new PageFrame.AddSlot(sid, v, 0, 0, layout.memoryPages(), 0, false, r)),
          PageFrame.SlotAdded.class);
      if (spec.image().isPresent()) {
        GuestImage image = spec.image().get();
        for (int p = 0; p < image.pages(); p++) {
          long pid = id++;
          long gfn = p;
          long fp = image.fingerprint(p);
          expect(
              ask(
                  system,
                  pf,
                  (ActorRef<PageFrame.PopulateReply> r) ->
                      new PageFrame.Populate(pid, v, gfn, fp, r)),
              PageFrame.Populated.class);
        }
      }
    }
    List<List<CompletableFuture<Driver.Outcome>>> done = new ArrayList<>();
    List<CompletableFuture<Driver.Outcome>> all = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      List<CompletableFuture<Driver.Outcome>> row = new ArrayList<>();
      for (int v = 0; v < spec.vcpusPerVm(); v++) {
        CompletableFuture<Driver.Outcome> f = new CompletableFuture<>();
        row.add(f);
        all.add(f);
      }
      done.add(List.copyOf(row));
    }
    system.tell(new Guardian.Start(BATCH, MAX_OUTSTANDING, List.copyOf(done)));
    Map<String, Long> counters = new TreeMap<>();
    long completed = 0;
    long failed = 0;
    List<String> failures = new ArrayList<>();
    for (CompletableFuture<Driver.Outcome> f : all) {
      Driver.Outcome o = await(f, Duration.ofMinutes(10));
      completed += o.completed();
      failed += o.failed();
      failures.addAll(o.failures());
      if (o.counters() != null) {
        o.counters().toMap().forEach((k, n) -> counters.merge(k, n, Long::sum));
      }
    }
    List<long[]> frames = new ArrayList<>();
    List<long[]> addrs = new ArrayList<>();
    List<long[]> words = new ArrayList<>();
    for (int vm = 0; vm < spec.vms(); vm++) {
      int v = vm;
      long rid = id++;
      PageFrame.FramesRead fr =
          expect(
              ask(
                  system,
                  pf,
                  (ActorRef<PageFrame.FramesReply> r) ->
                      new PageFrame.ReadFrames(rid, v, 0, (int) layout.memoryPages(), r)),
              PageFrame.FramesRead.class);
      frames.add(fr.fingerprints());
      long hid = id++;
      GuestMmu.HtabDumped h =
          expect(
              ask(
                  system,
                  w.guests().get(vm),
                  (ActorRef<GuestMmu.HtabReply> r) -> new GuestMmu.DumpHtab(hid, r)),
              GuestMmu.HtabDumped.class);
      addrs.add(h.addrs());
      words.add(h.words());
    }
    return new MeshResult(counters, completed, failed, List.copyOf(failures), frames, addrs, words);
  }

  private static <Q, R> R ask(
      ActorSystem<?> system, RecipientRef<Q> to, Function<ActorRef<R>, Q> message) {
    CompletionStage<R> s = AskPattern.ask(to, message::apply, ASK, system.scheduler());
    return await(s.toCompletableFuture(), ASK.plusSeconds(5));
  }

  private static <T> T await(CompletableFuture<T> f, Duration timeout) {
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("mesh: interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("mesh: no answer within " + timeout + ": " + e, e);
    }
  }

  private static <T> T expect(Object reply, Class<T> kind) {
    if (!kind.isInstance(reply)) {
      throw new IllegalStateException(
          "mesh setup: expected " + kind.getSimpleName() + " but got " + reply);
    }
    return kind.cast(reply);
  }
}
