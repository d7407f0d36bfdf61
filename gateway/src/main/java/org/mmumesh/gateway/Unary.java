package org.mmumesh.gateway;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one shape of every unary RPC (style item 11): validate and call the simulation ({@code call},
 * which may throw a {@link GatewayException} before anything is asked), map the answer back ({@code
 * reply}), and send every failure, whichever step threw, through {@link StatusMapper}.
 */
final class Unary {
  private Unary() {}

  /** Runs {@code call}, answers {@code reply} of its result or the mapped failure. */
  static <T, R> void run(
      StreamObserver<R> out, Supplier<CompletionStage<T>> call, Function<T, R> reply) {
    CompletionStage<T> stage;
    try {
      stage = call.get();
    } catch (RuntimeException e) {
      out.onError(StatusMapper.toException(e));
      return;
    }
    stage.whenComplete(
        (value, failure) -> {
          if (failure != null) {
            out.onError(StatusMapper.toException(failure));
            return;
          }
          R r;
          try {
            r = reply.apply(value);
          } catch (RuntimeException e) {
            out.onError(StatusMapper.toException(e));
            return;
          }
          out.onNext(r);
          out.onCompleted();
        });
  }
}
