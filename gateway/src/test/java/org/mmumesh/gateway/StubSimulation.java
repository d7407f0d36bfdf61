package org.mmumesh.gateway;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.mmumesh.common.AccessOp;
import org.mmumesh.mesh.Simulation;

/**
 * A {@link Simulation} for edge tests: {@code runBatch} calls are queued for the test to answer;
 * every other call fails (a test that reaches one sees it), so "nothing reached the simulation" is
 * checkable.
 */
final class StubSimulation {
  /** A batch handed to the simulation, answered by completing {@code result}. */
  record Call(
      int vm, int vcpu, List<AccessOp> ops, CompletableFuture<Simulation.BatchResult> result) {}

  final LinkedBlockingQueue<Call> batches = new LinkedBlockingQueue<>();
  final LinkedBlockingQueue<String> otherCalls = new LinkedBlockingQueue<>();

  Simulation simulation() {
    return (Simulation)
        Proxy.newProxyInstance(
            Simulation.class.getClassLoader(),
            new Class<?>[] {Simulation.class},
            (proxy, method, args) -> {
              if (method.getDeclaringClass() == Object.class) {
                return method.invoke(this, args);
              }
              if (method.isDefault()) {
                // what the interface defines itself (an unlimited memory budget)
                return java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
              }
              if (method.getName().equals("runBatch")) {
                @SuppressWarnings("unchecked")
                List<AccessOp> ops = (List<AccessOp>) args[2];
                Call c = new Call((int) args[0], (int) args[1], ops, new CompletableFuture<>());
                batches.add(c);
                return c.result();
              }
              otherCalls.add(method.getName());
              return CompletableFuture.failedFuture(
                  GatewayException.unavailable("stub: " + method.getName()));
            });
  }

  static Simulation.BatchResult result(int accesses) {
    return new Simulation.BatchResult(
        accesses, 0, List.of(), java.util.Map.of("accesses", (long) accesses));
  }
}
