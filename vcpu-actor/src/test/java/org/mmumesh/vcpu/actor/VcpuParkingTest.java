package org.mmumesh.vcpu.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class VcpuParkingTest {

  @Test
  void idleTimeout_isOffByDefault_aPositiveDuration_orRefusedNamingTheKey() {
    assertThat(VcpuParking.idleTimeout(ConfigFactory.load())).as("reference.conf: off").isNull();
    assertThat(VcpuParking.idleTimeout(ConfigFactory.empty())).isNull();
    assertThat(
            VcpuParking.idleTimeout(
                ConfigFactory.parseString("mmumesh.vcpu.passivate-after-idle = 2 minutes")))
        .isEqualTo(Duration.ofMinutes(2));
    for (String bad : new String[] {"0s", "-1s", "soon"}) {
      assertThatThrownBy(
              () ->
                  VcpuParking.idleTimeout(
                      ConfigFactory.parseString("mmumesh.vcpu.passivate-after-idle = " + bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("mmumesh.vcpu.passivate-after-idle: '" + bad + "'")
          .hasMessageContaining("a positive duration");
    }
  }
}
