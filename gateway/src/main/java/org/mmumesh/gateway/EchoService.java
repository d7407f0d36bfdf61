package org.mmumesh.gateway;

import io.grpc.stub.StreamObserver;
import org.mmumesh.proto.v1.EchoRequest;
import org.mmumesh.proto.v1.EchoResponse;
import org.mmumesh.proto.v1.EchoServiceGrpc;

/**
 * The transport-only baseline: returns the payload, touches no actor. The unary-latency benchmark
 * compares the simulation's single access against it in the same server.
 */
public final class EchoService extends EchoServiceGrpc.EchoServiceImplBase {
  /** Largest payload accepted, in bytes. */
  public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

  @Override
  public void echo(EchoRequest request, StreamObserver<EchoResponse> out) {
    if (request.getPayload().size() > MAX_PAYLOAD_BYTES) {
      out.onError(
          StatusMapper.toException(
              GatewayException.badField(
                  "payload",
                  request.getPayload().size()
                      + " bytes is outside the allowed range 0 .. "
                      + MAX_PAYLOAD_BYTES)));
      return;
    }
    out.onNext(EchoResponse.newBuilder().setPayload(request.getPayload()).build());
    out.onCompleted();
  }
}
