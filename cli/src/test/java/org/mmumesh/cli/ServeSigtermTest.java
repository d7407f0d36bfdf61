package org.mmumesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code mmumesh serve} in a child JVM stops cleanly on SIGTERM ({@link Process#destroy} sends it):
 * the graceful shutdown runs and the process exits 0, not the JVM's 143.
 */
class ServeSigtermTest {

  @Test
  void serve_onSigterm_shutsDownGracefully_andExitsZero() throws Exception {
    try (ChildCli serve =
        ChildCli.start(
            line -> line.startsWith("mmumesh gateway on"),
            "serve",
            "--port",
            "0",
            "--metrics-port",
            "0",
            "--drain-seconds",
            "1")) {
      serve.awaitUp();

      int exit = serve.sigtermAndWait();

      assertThat(exit).as(serve.output()).isZero();
      assertThat(serve.output()).doesNotContain("Exception");
    }
  }
}
