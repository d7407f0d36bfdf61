package org.mmumesh.gateway;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Calls with raw bytes as requests and responses: a {@link ClientCall} with a byte-array marshaller
 * against a method's real name, so a test can send what no generated stub would (invalid UTF-8,
 * truncated varints, garbage).
 */
final class RawCalls {
  private RawCalls() {}

  static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  /** One open call: its answers (byte arrays) and then its final {@link Status}, in order. */
  static final class Call {
    final ClientCall<byte[], byte[]> call;
    final LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    final CompletableFuture<Status> closed = new CompletableFuture<>();

    Call(Channel channel, String method) {
      MethodDescriptor<byte[], byte[]> m =
          MethodDescriptor.<byte[], byte[]>newBuilder(BYTES, BYTES)
              .setType(MethodDescriptor.MethodType.UNKNOWN)
              .setFullMethodName(method)
              .build();
      call = channel.newCall(m, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
      call.start(
          new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
              answers.add(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              answers.add(status);
              closed.complete(status);
            }
          },
          new Metadata());
      call.request(Integer.MAX_VALUE);
    }

    void send(byte[] message) {
      call.sendMessage(message);
    }

    /** The next answer: a response's bytes or the final status. */
    Object next() throws InterruptedException {
      Object o = answers.poll(60, TimeUnit.SECONDS);
      if (o == null) {
        throw new AssertionError("no answer within 60 s");
      }
      return o;
    }

    /** Half-closes and waits for the final status. */
    Status finish() throws Exception {
      call.halfClose();
      return closed.get(60, TimeUnit.SECONDS);
    }
  }

  /** Sends {@code messages} on one call to {@code method}; the status it ends with. */
  static Status send(Channel channel, String method, byte[]... messages) throws Exception {
    Call c = new Call(channel, method);
    for (byte[] m : messages) {
      c.send(m);
    }
    return c.finish();
  }

  /** Records grpc-java's log records at WARNING and above while open (java.util.logging). */
  static final class GrpcWarnings extends Handler implements AutoCloseable {
    private final Logger logger = Logger.getLogger("io.grpc");
    final List<String> records = new ArrayList<>();

    GrpcWarnings() {
      setLevel(Level.WARNING);
      logger.addHandler(this);
    }

    @Override
    public synchronized void publish(LogRecord r) {
      if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
        records.add(r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage());
      }
    }

    synchronized List<String> seen() {
      return List.copyOf(records);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
      logger.removeHandler(this);
    }
  }
}
