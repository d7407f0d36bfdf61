package org.mmumesh.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Undecodable requests answer INVALID_ARGUMENT naming the problem, on every method of a service,
 * unary and streaming, in process and over Netty.
 *
 * <p>grpc-java parses a request with the method's marshaller inside the call's listener; a parse
 * failure there (protobuf's {@code InvalidProtocolBufferException}: invalid UTF-8 in a string,
 * garbage, a truncated varint or length) escapes as an exception, which the server turns into
 * {@code UNKNOWN: Application error processing RPC} and logs with its stack trace. {@link #guard}
 * rebinds each method to take the request's raw {@link InputStream} and parses it itself: a request
 * that does not parse closes the call with INVALID_ARGUMENT ("{@code field}: problem", see {@link
 * WireDiagnosis}) and tells the service the call was cancelled (so a stream's resources are freed,
 * as for a client that went away); the service's later answers on that call are dropped. One line
 * at DEBUG is logged, no stack trace. Messages that parse go to the service unchanged: the only
 * cost on the good path is a mark on the stream.
 */
final class RequestDecoding {
  private static final Logger LOG = LoggerFactory.getLogger(RequestDecoding.class);

  /** The request as the transport delivered it. */
  private static final MethodDescriptor.Marshaller<InputStream> RAW =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
          return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
          return stream;
        }
      };

  private RequestDecoding() {}

  /** {@code service} with every method parsing its requests as described above. */
  static ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor sd = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    ServiceDescriptor.Builder b =
        ServiceDescriptor.newBuilder(sd.getName()).setSchemaDescriptor(sd.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      ServerMethodDefinition<?, ?> w = guard(m);
      b.addMethod(w.getMethodDescriptor());
      methods.add(w);
    }
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(b.build());
    methods.forEach(out::addMethod);
    return out.build();
  }

  private static <Q, R> ServerMethodDefinition<InputStream, R> guard(
      ServerMethodDefinition<Q, R> m) {
    MethodDescriptor<Q, R> method = m.getMethodDescriptor();
    MethodDescriptor<InputStream, R> raw =
        method.toBuilder(RAW, method.getResponseMarshaller()).build();
    ServerCallHandler<Q, R> handler = m.getServerCallHandler();
    return ServerMethodDefinition.create(
        raw,
        (call, headers) -> {
          Guarded<Q, R> typed = new Guarded<>(call, method);
          return new Decoding<>(typed, method, handler.startCall(typed, headers));
        });
  }

  /** The call as the service sees it: its own method; answers after a refusal are dropped. */
  private static final class Guarded<Q, R> extends ForwardingServerCall<Q, R> {
    private final ServerCall<InputStream, R> call;
    private final MethodDescriptor<Q, R> method;
    private boolean closed; // guarded by this

    Guarded(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method) {
      this.call = call;
      this.method = method;
    }

    @Override
    @SuppressWarnings("unchecked")
    protected ServerCall<Q, R> delegate() {
      // every method the service uses is independent of the request type except this one
      return (ServerCall<Q, R>) (ServerCall<?, R>) call;
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
      return method;
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        call.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(R message) {
      if (!closed) {
        call.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        call.close(status, trailers);
      }
    }
  }

  /** Parses each message; the first that does not parse ends the call. */
  private static final class Decoding<Q, R> extends ServerCall.Listener<InputStream> {
    private final Guarded<Q, R> call;
    private final MethodDescriptor<Q, R> method;
    private final ServerCall.Listener<Q> delegate;
    private boolean refused; // the listener's callbacks are serialized by grpc

    Decoding(Guarded<Q, R> call, MethodDescriptor<Q, R> method, ServerCall.Listener<Q> delegate) {
      this.call = call;
      this.method = method;
      this.delegate = delegate;
    }

    @Override
    public void onMessage(InputStream in) {
      if (refused) {
        close(in);
        return;
      }
      if (in.markSupported()) {
        in.mark(Integer.MAX_VALUE);
      }
      Q request;
      try {
        request = method.parseRequest(in);
      } catch (RuntimeException e) {
        refused = true;
        String problem = describe(in, e);
        close(in);
        LOG.debug("{}: undecodable request refused: {}", method.getFullMethodName(), problem);
        call.close(Status.INVALID_ARGUMENT.withDescription(problem), new Metadata());
        delegate.onCancel();
        return;
      }
      delegate.onMessage(request);
    }

    /** "field: problem" for the request {@code in} held, which failed to parse with {@code e}. */
    private String describe(InputStream in, RuntimeException e) {
      Throwable cause = e;
      while (cause != null && !(cause instanceof InvalidProtocolBufferException)) {
        cause = cause.getCause();
      }
      String parser = cause != null ? cause.getMessage() : String.valueOf(e.getMessage());
      Object prototype =
          method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p
              ? p.getMessagePrototype()
              : null;
      if (prototype instanceof Message msg && in.markSupported()) {
        try {
          in.reset();
          return WireDiagnosis.describe(msg.getDescriptorForType(), in.readAllBytes(), parser);
        } catch (IOException ignored) {
          // the stream cannot be read again: the parser's words are all there is
        }
      }
      return "request: not a valid " + method.getFullMethodName() + " request: " + parser;
    }

    private static void close(InputStream in) {
      try {
        in.close();
      } catch (IOException ignored) {
        // nothing to release
      }
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        delegate.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      if (!refused) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (!refused) {
        delegate.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (!refused) {
        delegate.onReady();
      }
    }
  }
}
