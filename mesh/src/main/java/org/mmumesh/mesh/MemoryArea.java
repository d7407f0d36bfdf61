package org.mmumesh.mesh;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.mmumesh.pageframe.actor.PageFrame;

/**
 * The memory area of {@link MeshSimulation} (the memslot and memory part of the gateway's {@code
 * VmService}): adding and removing memslots on the VM's host's page frames (the facade's view in
 * {@link Memslots}), loading fingerprints into guest memory (charged to the {@link Admission}'s
 * budget where it populates pages beyond the VM's memory size) and reading them back in chunks.
 */
final class MemoryArea extends SimulationArea {
  private final Memslots slots;
  private final Admission admission;

  MemoryArea(Shared s, Memslots slots, Admission admission) {
    super(s);
    this.slots = slots;
    this.admission = admission;
  }

  /** See {@link Simulation#addSlot}. */
  CompletionStage<Long> addSlot(int vmId, Simulation.Slot s) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          slots.reserve(vmId, s);
          return rejectedAs(
                  vms.call(
                      glue.frames(e.hostId()),
                      (Long id, ActorRef<PageFrame.SlotReply> r) ->
                          new PageFrame.AddSlot(
                              id,
                              vmId,
                              s.slotId(),
                              s.gfnStart(),
                              s.pages(),
                              s.hostPageStart(),
                              s.readOnly(),
                              r),
                      PageFrame.SlotAdded.class),
                  SimulationException.Kind.BAD_FIELD)
              .whenComplete(
                  (added, err) -> {
                    if (err != null) {
                      slots.refused(vmId, s.slotId());
                    } else {
                      slots.added(vmId, s, added.generation());
                    }
                  })
              .thenApply(PageFrame.SlotAdded::generation);
        });
  }

  /** See {@link Simulation#removeSlot}. */
  CompletionStage<Long> removeSlot(int vmId, int slotId) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          slots.require(vmId, slotId);
          return vms.call(
                  glue.frames(e.hostId()),
                  (Long id, ActorRef<PageFrame.SlotReply> r) ->
                      new PageFrame.RemoveSlot(id, vmId, slotId, r),
                  PageFrame.SlotUpdateCompleted.class)
              .thenApply(done -> slots.removed(vmId, slotId));
        });
  }

  /** See {@link Simulation#loadMemory}. */
  CompletionStage<Long> loadMemory(int vmId, long gfnStart, long[] fingerprints) {
    return guarded(
        () -> {
          MeshDirectory.VmEntry e = vm(vmId);
          slots.requireInSlots(vmId, gfnStart, fingerprints.length);
          admission.chargeLoad(vmId, e.memoryPages(), e.mergeable(), gfnStart, fingerprints.length);
          List<CompletableFuture<PageFrame.Populated>> all = new ArrayList<>();
          for (int i = 0; i < fingerprints.length; i++) {
            long gfn = gfnStart + i;
            long fp = fingerprints[i];
            all.add(
                rejectedAs(
                        vms.call(
                            glue.frames(e.hostId()),
                            (Long id, ActorRef<PageFrame.PopulateReply> r) ->
                                new PageFrame.Populate(id, vmId, gfn, fp, r),
                            PageFrame.Populated.class),
                        SimulationException.Kind.BAD_FIELD)
                    .toCompletableFuture());
          }
          return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
              .thenApply(x -> (long) fingerprints.length);
        });
  }

  /**
   * See {@link Simulation#readMemory}. Refuses a range that leaves the VM's memslots, as {@link
   * #loadMemory} does. Reads in chunks of {@link PageFrame#READ_FRAMES_CHUNK} pages, one after the
   * other: the page frames may run on another node, and a larger {@code FramesRead} would exceed
   * the transport's frame size (and is refused beyond {@link PageFrame#MAX_READ_FRAMES}). A count
   * of at most one chunk (also a bad one, which the page frames reject naming the field) is one
   * request.
   */
  CompletionStage<long[]> readMemory(int vmId, long gfnStart, int pages) {
    return guarded(
        () -> {
          ActorRef<PageFrame.Command> frames = glue.frames(vm(vmId).hostId());
          if (pages > 0) {
            slots.requireInSlots(vmId, gfnStart, pages); // a bad count is the page frames' to name
          }
          if (pages <= PageFrame.READ_FRAMES_CHUNK) {
            return readChunk(frames, vmId, gfnStart, pages);
          }
          long[] out = new long[pages];
          CompletionStage<long[]> s = CompletableFuture.completedFuture(out);
          for (int off = 0; off < pages; off += PageFrame.READ_FRAMES_CHUNK) {
            int at = off;
            int n = Math.min(PageFrame.READ_FRAMES_CHUNK, pages - off);
            s =
                s.thenCompose(
                    a ->
                        readChunk(frames, vmId, gfnStart + at, n)
                            .thenApply(
                                f -> {
                                  System.arraycopy(f, 0, a, at, n);
                                  return a;
                                }));
          }
          return s;
        });
  }

  /** One {@link PageFrame.ReadFrames} of {@code count} pages (at most one chunk). */
  private CompletionStage<long[]> readChunk(
      ActorRef<PageFrame.Command> frames, int vmId, long gfnStart, int count) {
    return rejectedAs(
            vms.call(
                frames,
                (Long id, ActorRef<PageFrame.FramesReply> r) ->
                    new PageFrame.ReadFrames(id, vmId, gfnStart, count, r),
                PageFrame.FramesRead.class),
            SimulationException.Kind.BAD_FIELD)
        .thenApply(
            f -> {
              if (f.fingerprints().length != count) {
                throw new IllegalStateException(
                    "mesh: ReadFrames of "
                        + count
                        + " pages at gfn "
                        + gfnStart
                        + " answered "
                        + f.fingerprints().length);
              }
              return f.fingerprints();
            });
  }
}
