package org.mmumesh.shell;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One call into a pure core, with the shells' one rule for its exceptions: the core throws {@link
 * IllegalArgumentException} for bad input before changing anything (its message names the field and
 * the allowed range: the shell answers it as a rejection), and any other {@link RuntimeException}
 * is a bug (the shell logs it and answers a failure, keeping its state). This replaces the {@code
 * try { core } catch (IllegalArgumentException) reject catch (RuntimeException) failed} opening of
 * every handler.
 *
 * <pre>{@code
 * return Attempt.of(() -> core.addSlot(vm, slot, ...))
 *     .fold(ticket -> answer(...), reason -> reject(replyTo, id, reason), e -> failed(e, ...));
 * }</pre>
 *
 * @param <T> the core's result
 */
public final class Attempt<T> {
  private final T value;
  private final String rejected;
  private final RuntimeException failure;

  private Attempt(T value, String rejected, RuntimeException failure) {
    this.value = value;
    this.rejected = rejected;
    this.failure = failure;
  }

  /** Runs {@code step}, catching what the core throws (errors other than exceptions propagate). */
  public static <T> Attempt<T> of(Supplier<T> step) {
    try {
      return new Attempt<>(step.get(), null, null);
    } catch (IllegalArgumentException e) {
      return new Attempt<>(null, String.valueOf(e.getMessage()), null);
    } catch (RuntimeException e) {
      return new Attempt<>(null, null, e);
    }
  }

  /** {@link #of} for a step with no result (its value is null). */
  public static Attempt<Void> run(Runnable step) {
    Objects.requireNonNull(step, "step");
    return of(
        () -> {
          step.run();
          return null;
        });
  }

  /** Whether the step returned normally. */
  public boolean ok() {
    return rejected == null && failure == null;
  }

  /** The step's result (null unless {@link #ok()}). */
  public T value() {
    return value;
  }

  /** The rejection reason (the core's {@link IllegalArgumentException} message), or null. */
  public String rejected() {
    return rejected;
  }

  /** The unexpected exception, or null. */
  public RuntimeException failure() {
    return failure;
  }

  /** Applies the function of the outcome: one of {@code ok}, {@code rejected}, {@code failed}. */
  public <B> B fold(
      Function<? super T, ? extends B> ok,
      Function<String, ? extends B> rejected,
      Function<RuntimeException, ? extends B> failed) {
    if (this.rejected != null) {
      return rejected.apply(this.rejected);
    }
    if (failure != null) {
      return failed.apply(failure);
    }
    return ok.apply(value);
  }
}
