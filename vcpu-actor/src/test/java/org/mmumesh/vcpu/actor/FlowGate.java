package org.mmumesh.vcpu.actor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Predicate;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A test relay placed in front of a real actor (here the {@code HostMmu}): it forwards every
 * message to its target in arrival order, except that it can be told to hold back the next {@code
 * count} messages matching a predicate ({@link Hold}); each held message is reported ({@link Held})
 * and delivered, in order, when the test sends {@link Release}. This is how a flow test keeps a
 * vCPU mid-fault at a chosen step (a {@code MapPage} after its {@code GfnToPfnProt} reply, with the
 * memslot lease held) or keeps a guest tlbie from reaching the host, without changing the actors.
 * Its own control messages are local ({@link NoSerializationVerificationNeeded}).
 */
final class FlowGate {
  private FlowGate() {}

  /**
   * Also hold the next {@code count} messages matching {@code which} (rules add up); report each to
   * {@code report}.
   */
  record Hold(Predicate<Object> which, int count, ActorRef<Held> report)
      implements NoSerializationVerificationNeeded {}

  /** Deliver, in order, every held message matching {@code which}. */
  record Release(Predicate<Object> which) implements NoSerializationVerificationNeeded {}

  /** A message the gate is holding back. */
  record Held(Object message) implements NoSerializationVerificationNeeded {}

  private static final class Rule {
    final Hold hold;
    int left;

    Rule(Hold hold) {
      this.hold = hold;
      this.left = hold.count();
    }
  }

  @SuppressWarnings("unchecked")
  static Behavior<Object> create(ActorRef<?> target) {
    ActorRef<Object> to = (ActorRef<Object>) target;
    return Behaviors.setup(
        ctx -> {
          List<Object> held = new ArrayList<>();
          List<Rule> rules = new ArrayList<>();
          return Behaviors.receive(Object.class)
              .onMessage(
                  Hold.class,
                  h -> {
                    rules.add(new Rule(h));
                    return Behaviors.same();
                  })
              .onMessage(
                  Release.class,
                  r -> {
                    for (Iterator<Object> it = held.iterator(); it.hasNext(); ) {
                      Object m = it.next();
                      if (r.which().test(m)) {
                        it.remove();
                        to.tell(m);
                      }
                    }
                    return Behaviors.same();
                  })
              .onAnyMessage(
                  m -> {
                    for (Rule rule : rules) {
                      if (rule.left > 0 && rule.hold.which().test(m)) {
                        rule.left--;
                        held.add(m);
                        rule.hold.report().tell(new Held(m));
                        return Behaviors.same();
                      }
                    }
                    to.tell(m);
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
