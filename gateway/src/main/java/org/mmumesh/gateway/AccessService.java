package org.mmumesh.gateway;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.mmumesh.common.AccessOp;
import org.mmumesh.mesh.FootprintEstimator;
import org.mmumesh.mesh.MemoryBudget;
import org.mmumesh.mesh.Simulation;
import org.mmumesh.proto.v1.AccessRequest;
import org.mmumesh.proto.v1.AccessResponse;
import org.mmumesh.proto.v1.AccessServiceGrpc;
import org.mmumesh.proto.v1.AccessTrace;
import org.mmumesh.proto.v1.FaultKind;
import org.mmumesh.proto.v1.FaultTrace;
import org.mmumesh.proto.v1.GfnToPfnTrace;
import org.mmumesh.proto.v1.MapTrace;
import org.mmumesh.proto.v1.RcBits;
import org.mmumesh.proto.v1.ReflectTrace;
import org.mmumesh.proto.v1.RunWorkloadRequest;
import org.mmumesh.proto.v1.RunWorkloadResponse;
import org.mmumesh.proto.v1.XlateStatus;
import org.mmumesh.proto.v1.XlateTrace;

/**
 * {@code mmumesh.v1.AccessService} over a {@link Simulation}.
 *
 * <p><b>RunWorkload</b> streams batches to one vCPU with real flow control both ways. Inbound is
 * manual ({@code disableAutoRequest}): the server asks for {@value #MAX_IN_FLIGHT} batches at the
 * start and for one more each time a batch's result has been <em>sent</em>, so at most {@value
 * #MAX_IN_FLIGHT} batches per stream are in the server (received, running or waiting to be sent)
 * whatever the client does; gRPC's HTTP/2 window holds back the rest at the client. Outbound,
 * results are sent in batch order only while the call {@code isReady()}, the rest when the {@code
 * onReadyHandler} fires, so a slow reader stops the stream instead of growing a queue. Batches run
 * one after the other on the vCPU (the next is handed to the simulation when the previous one
 * answered), which keeps their order across nodes. The first message must name the vCPU; a vCPU has
 * at most one stream in this gateway (a second is FAILED_PRECONDITION). A malformed batch, a
 * non-increasing batch id or a simulation failure ends the stream with its status; accesses that
 * fail inside a batch are results, not errors. Cancelling the call frees the vCPU for a new stream
 * (a batch already handed to the vCPU still runs; one still waiting in the server does not). A VM
 * lost with a node while its batch runs ends the stream ABORTED, naming the VM, the node and what
 * was lost.
 *
 * <p>A batch comes in either encoding ({@code accesses} or {@code packed}, see {@link
 * AccessRequests}) and is decoded straight into the vCPU's ops on arrival. An effective address
 * beyond 32 bits needs the VM's width: the stream asks it once ({@link Simulation#getVm}, at the
 * first such batch) and checks the batch against it just before handing it to the vCPU; on a 32-bit
 * guest the stream ends with INVALID_ARGUMENT naming the field in the batch's own encoding, and
 * that batch does not run.
 *
 * <p><b>Access</b> asks {@link Simulation#traceAccess} (the vCPU's own trace, in the port's {@link
 * org.mmumesh.common.AccessTrace}) and maps it field for field; refused while a stream runs on the
 * vCPU.
 */
public final class AccessService extends AccessServiceGrpc.AccessServiceImplBase {
  /** Batches per stream in the server at once (received and not yet answered to the client). */
  public static final int MAX_IN_FLIGHT = 2;

  private final Simulation sim;
  private final VcpuStreams streams;

  /** Serves {@code sim}; {@code streams} are shared with {@link VmService} (DeleteVm). */
  /** What a RunWorkload stream still open when the gateway stops is told (UNAVAILABLE). */
  static final String SHUTDOWN =
      "the gateway is shutting down: the batches answered on this stream ran; retry the others on"
          + " a running gateway (a batch id already run is answered, not run twice, while the"
          + " cluster lives)";

  private final Set<WorkloadStream> open = ConcurrentHashMap.newKeySet();

  /**
   * Ends every open RunWorkload stream with UNAVAILABLE ({@link #SHUTDOWN}), for a gateway whose
   * drain time is over (instead of the transport's CANCELLED).
   */
  public void endStreams() {
    for (WorkloadStream s : open) {
      s.shutDown();
    }
  }

  public AccessService(Simulation sim, VcpuStreams streams) {
    this.sim = Objects.requireNonNull(sim, "sim");
    this.streams = Objects.requireNonNull(streams, "streams");
  }

  @Override
  public void access(AccessRequest request, StreamObserver<AccessResponse> out) {
    Unary.run(
        out,
        () -> {
          AccessRequests.Single a = AccessRequests.single(request);
          streams.checkFree(a.vmId(), a.vcpu());
          return sim.traceAccess(a.vmId(), a.vcpu(), new AccessOp(a.kind(), a.ea(), a.value()));
        },
        t -> AccessResponse.newBuilder().setTrace(trace(t)).build());
  }

  /** The API's form of a vCPU's access trace (field for field). */
  static AccessTrace trace(org.mmumesh.common.AccessTrace t) {
    AccessTrace.Builder b =
        AccessTrace.newBuilder()
            .setTlbHit(t.tlbHit())
            .setHostHpteHit(t.hostHpteHit())
            .setCompleted(t.completed())
            .setFailure(t.failure() == null ? "" : t.failure())
            .setLoadedValue(t.loadedValue());
    if (t.guestRealAddr() >= 0) {
      b.setGuestRealAddr(t.guestRealAddr());
    }
    if (t.hostPfn() >= 0) {
      b.setHostPfn(t.hostPfn());
    }
    if (t.rcBefore() != null) {
      b.setRcBefore(rc(t.rcBefore()));
    }
    if (t.rcAfter() != null) {
      b.setRcAfter(rc(t.rcAfter()));
    }
    for (org.mmumesh.common.AccessTrace.FaultTrace f : t.faults()) {
      FaultTrace.Builder fb =
          FaultTrace.newBuilder()
              .setKind(
                  switch (f.kind()) {
                    case NOHPTE -> FaultKind.FAULT_KIND_NOHPTE;
                    case PROTFAULT -> FaultKind.FAULT_KIND_PROTFAULT;
                    case NOEXEC -> FaultKind.FAULT_KIND_NOEXEC;
                  });
      if (f.xlate() != null) {
        org.mmumesh.common.AccessTrace.XlateTrace x = f.xlate();
        fb.setXlate(
            XlateTrace.newBuilder()
                .setStatus(
                    switch (x.status()) {
                      case OK -> XlateStatus.XLATE_STATUS_OK;
                      case ENOENT -> XlateStatus.XLATE_STATUS_ENOENT;
                      case EPERM -> XlateStatus.XLATE_STATUS_EPERM;
                      case EINVAL -> XlateStatus.XLATE_STATUS_EINVAL;
                    })
                .setGuestRealAddr(x.guestRealAddr())
                .setVpage(x.vpage())
                .setMayRead(x.mayRead())
                .setMayWrite(x.mayWrite())
                .setMayExecute(x.mayExecute())
                .setPageSizeBytes((int) x.pageSizeBytes()));
      }
      if (f.gfnToPfn() != null) {
        org.mmumesh.common.AccessTrace.GfnToPfnTrace g = f.gfnToPfn();
        fb.setGfnToPfn(
            GfnToPfnTrace.newBuilder()
                .setGuestFrame(g.guestFrame())
                .setHostPfn(g.hostPfn())
                .setWritable(g.writable())
                .setMmio(g.mmio())
                .setCow(g.cow())
                .setNotifierSeq(g.notifierSeq()));
      }
      if (f.unmappedVpage() != null) {
        fb.setUnmappedVpage(f.unmappedVpage());
      }
      if (f.map() != null) {
        fb.setMap(
            MapTrace.newBuilder()
                .setHostPfn(f.map().hostPfn())
                .setWritable(f.map().writable())
                .setRefusedRetry(f.map().refusedRetry()));
      }
      if (f.reflected() != null) {
        org.mmumesh.common.AccessTrace.ReflectTrace r = f.reflected();
        fb.setReflected(
            ReflectTrace.newBuilder()
                .setVector(r.vector())
                .setDar(r.dar())
                .setDsisr(r.dsisr())
                .setSrr1Bits(r.srr1Bits())
                .setKind(r.kind()));
      }
      if (f.mmioAddr() != null) {
        fb.setMmioAddr(f.mmioAddr());
      }
      b.addFaults(fb);
    }
    return b.build();
  }

  private static RcBits rc(org.mmumesh.common.AccessTrace.Rc rc) {
    return RcBits.newBuilder().setReferenced(rc.referenced()).setChanged(rc.changed()).build();
  }

  @Override
  public StreamObserver<RunWorkloadRequest> runWorkload(StreamObserver<RunWorkloadResponse> raw) {
    ServerCallStreamObserver<RunWorkloadResponse> out =
        (ServerCallStreamObserver<RunWorkloadResponse>) raw;
    out.disableAutoRequest();
    WorkloadStream s = new WorkloadStream(out);
    open.add(s);
    out.setOnReadyHandler(s::drain);
    out.setOnCancelHandler(s::cancelled);
    out.request(MAX_IN_FLIGHT);
    return s;
  }

  /**
   * One RunWorkload call; every method holds the lock (the response observer is not thread-safe).
   */
  private final class WorkloadStream implements StreamObserver<RunWorkloadRequest> {
    private final ServerCallStreamObserver<RunWorkloadResponse> out;

    /** Results in batch order; the head is sent once done and the call is ready. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();

    private int[] vcpu;

    /**
     * The VM's width, asked once, at the first batch with an address beyond 32 bits: true for a
     * 64-bit guest, null when the simulation could not say (its batch call then fails or checks).
     */
    private CompletableFuture<Boolean> is64;

    private long lastBatchId = -1;
    private boolean hasBatch;
    private boolean halfClosed;
    private boolean finished;
    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

    WorkloadStream(ServerCallStreamObserver<RunWorkloadResponse> out) {
      this.out = out;
    }

    @Override
    public synchronized void onNext(RunWorkloadRequest r) {
      if (finished) {
        return;
      }
      AccessRequests.Batch b;
      try {
        b = AccessRequests.batch(r, vcpu);
        if (vcpu == null) {
          streams.claim(b.vmId(), b.vcpu());
          vcpu = new int[] {b.vmId(), b.vcpu()};
        }
        if (hasBatch && Long.compareUnsigned(b.batchId(), lastBatchId) <= 0) {
          throw GatewayException.badField(
              "batch_id",
              Long.toUnsignedString(b.batchId())
                  + " is not above the previous "
                  + Long.toUnsignedString(lastBatchId)
                  + " (batch ids increase within a stream)");
        }
      } catch (RuntimeException e) {
        fail(e);
        return;
      }
      hasBatch = true;
      lastBatchId = b.batchId();
      Pending p = new Pending(b.batchId(), r.getOmitCounters());
      try {
        // held until the result is sent: the budget bounds what every stream's batches hold
        p.held =
            sim.memoryBudget()
                .reserve(
                    "a workload batch on vm " + b.vmId() + " vcpu " + b.vcpu(),
                    "its " + b.ops().size() + " accesses",
                    FootprintEstimator.batch(b.ops().size()));
      } catch (RuntimeException e) {
        fail(e);
        return;
      }
      pending.add(p);
      if (b.beyond32Bits() && is64 == null) {
        is64 =
            sim.getVm(b.vmId())
                .toCompletableFuture()
                .handle((info, e) -> e == null ? info.config().is64() : null);
      }
      CompletableFuture<Boolean> width =
          b.beyond32Bits() ? is64 : CompletableFuture.completedFuture(true);
      CompletableFuture<Simulation.BatchResult> run =
          tail.handle((x, e) -> null)
              .thenCompose(x -> width)
              .thenCompose(
                  wide -> {
                    if (ended()) {
                      // the stream ended (a failure, a cancel) while this batch waited for the one
                      // before: it is not handed to the vCPU
                      return CompletableFuture.<Simulation.BatchResult>failedFuture(
                          new java.util.concurrent.CancellationException("the stream ended"));
                    }
                    if (wide != null) {
                      AccessRequests.checkEffectiveAddrs(b, wide);
                    }
                    return sim.runBatch(b.vmId(), b.vcpu(), b.ops()).toCompletableFuture();
                  });
      tail = run;
      run.whenComplete((res, err) -> done(p, res, err));
    }

    private synchronized boolean ended() {
      return finished;
    }

    private synchronized void done(Pending p, Simulation.BatchResult res, Throwable err) {
      if (err != null) {
        fail(err);
        return;
      }
      p.result = res;
      drain();
    }

    /** Sends done results in order while the call is ready; asks for one batch per result sent. */
    synchronized void drain() {
      while (!finished && !pending.isEmpty() && pending.peek().result != null && out.isReady()) {
        Pending p = pending.poll();
        p.held.close();
        Simulation.BatchResult r = p.result;
        RunWorkloadResponse.Builder res =
            RunWorkloadResponse.newBuilder()
                .setBatchId(p.batchId)
                .setCompleted(r.completed())
                .setFailed(r.failed())
                .addAllFailures(r.failures());
        if (!p.omitCounters) {
          res.addAllCounters(Counters.of(r.counters()));
        }
        out.onNext(res.build());
        if (!halfClosed) {
          out.request(1);
        }
      }
      if (!finished && halfClosed && pending.isEmpty()) {
        finished = true;
        release();
        out.onCompleted();
      }
    }

    @Override
    public synchronized void onError(Throwable t) {
      // the client cancelled or the transport failed: nothing more to send
      finished = true;
      release();
    }

    @Override
    public synchronized void onCompleted() {
      halfClosed = true;
      drain();
    }

    synchronized void cancelled() {
      finished = true;
      release();
    }

    private void fail(Throwable t) {
      if (finished) {
        return;
      }
      finished = true;
      release();
      out.onError(StatusMapper.toException(t));
    }

    synchronized void shutDown() {
      fail(GatewayException.unavailable(SHUTDOWN));
    }

    private void release() {
      pending.forEach(p -> p.held.close());
      open.remove(this);
      if (vcpu != null) {
        streams.release(vcpu[0], vcpu[1]);
        vcpu = null;
      }
    }
  }

  /** A batch accepted on a stream, and its result once the vCPU answered. */
  private static final class Pending {
    final long batchId;
    final boolean omitCounters;
    MemoryBudget.Reservation held;
    Simulation.BatchResult result;

    Pending(long batchId, boolean omitCounters) {
      this.batchId = batchId;
      this.omitCounters = omitCounters;
    }
  }
}
