package org.mmumesh.gateway;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gate of a draining gateway, in front of every simulation service (not of health and
 * reflection): it counts the calls in flight, and once {@link #close}d answers every new call
 * {@code UNAVAILABLE} with a retry hint while the calls in flight go on, so that during the drain
 * the server still listens and a new connection's health check gets NOT_SERVING (instead of a
 * refused connection), and {@link #awaitIdle} tells when the last call in flight ended.
 */
final class DrainGate implements ServerInterceptor {
  /** What a call refused during the drain is told. */
  static final String REFUSED =
      "the gateway is shutting down (draining) and takes no new calls; retry on a running gateway";

  private volatile boolean closed;
  private int open; // guarded by this

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    if (closed) {
      call.close(Status.UNAVAILABLE.withDescription(REFUSED), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    synchronized (this) {
      open++;
    }
    AtomicBoolean ended = new AtomicBoolean();
    Runnable end =
        () -> {
          if (ended.compareAndSet(false, true)) {
            synchronized (this) {
              if (--open == 0) {
                notifyAll();
              }
            }
          }
        };
    ServerCall<Q, R> counted =
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            try {
              super.close(status, trailers);
            } finally {
              end.run();
            }
          }
        };
    try {
      return new SimpleForwardingServerCallListener<>(next.startCall(counted, headers)) {
        @Override
        public void onCancel() {
          end.run();
          super.onCancel();
        }

        @Override
        public void onComplete() {
          end.run();
          super.onComplete();
        }
      };
    } catch (RuntimeException e) {
      end.run();
      throw e;
    }
  }

  /** From now on every new call is refused UNAVAILABLE ({@link #REFUSED}). */
  void close() {
    closed = true;
  }

  /** Calls in flight. */
  synchronized int open() {
    return open;
  }

  /** Waits until no call is in flight or {@code max} passed; true when none is. */
  synchronized boolean awaitIdle(Duration max) throws InterruptedException {
    long end = System.nanoTime() + max.toNanos();
    while (open > 0) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return true;
  }
}
