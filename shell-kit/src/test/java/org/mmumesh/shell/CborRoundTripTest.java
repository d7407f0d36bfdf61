package org.mmumesh.shell;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The set-up every actor module's serialization test shares (style item 10: a test runs every
 * command, reply and event through the serializer), in shell-kit's test-jar: an {@link
 * ActorTestKit} on the module's own test configuration, {@link #roundTrip}, and the check that this
 * configuration serializes every message and forbids Java serialization. A module's test extends it
 * and lists its protocol's messages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class CborRoundTripTest {
  /** The test kit, on {@code ConfigFactory.load()} (the module's test {@code application.conf}). */
  protected final ActorTestKit kit = ActorTestKit.create(ConfigFactory.load());

  @AfterAll
  void shutdownKit() {
    kit.shutdownTestKit();
  }

  /**
   * Serializes {@code msg} and reads it back: the copy must equal it, and the serializer must be
   * Jackson CBOR (the {@code CborSerializable} binding), not a fallback.
   */
  protected void roundTrip(Object msg) {
    Object back = kit.serializationTestKit().verifySerialization(msg, true);
    assertThat(back).isEqualTo(msg);
    assertThat(SerializationExtension.get(kit.system().classicSystem()).findSerializerFor(msg))
        .extracting(s -> s.getClass().getSimpleName())
        .isEqualTo("JacksonCborSerializer");
  }

  @Test
  void testConfig_serializesEveryMessage_andForbidsJavaSerialization() {
    var config = kit.system().settings().config();
    assertThat(config.getBoolean("pekko.actor.serialize-messages")).isTrue();
    assertThat(config.getString("pekko.actor.allow-java-serialization")).isEqualTo("off");
  }
}
