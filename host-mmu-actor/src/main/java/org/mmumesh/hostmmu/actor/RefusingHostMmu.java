package org.mmumesh.hostmmu.actor;

import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.mmumesh.hostmmu.actor.HostMmuCheckpointProtocol.CheckpointState;
import org.mmumesh.hostmmu.actor.HostMmuCheckpointProtocol.RestoreState;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.CheckInvariants;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Command;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.FlushVcpu;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.GuestTlbie;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.InvariantsReply;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Lookup;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.MapPage;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.NotifierInvalidate;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.Rejected;
import org.mmumesh.hostmmu.actor.HostMmuProtocol.UnmapPage;

/**
 * A {@code HostMmu} entity that could not be built, or must not serve: every request is refused
 * with one reason (issue 12 item 8: an entity restarting on another node without the state it had
 * refuses to serve rather than answering from an empty shadow table). Requests whose reply family
 * has a {@link Rejected} get it; {@link CheckInvariants} gets the reason as its one violation; the
 * others (subscriptions, acks, statistics, dumps) get no answer, so their asks fail by their own
 * deadline.
 */
final class RefusingHostMmu {
  private RefusingHostMmu() {}

  /** The behaviour refusing every request with {@code reason}. */
  static Behavior<Command> create(String reason) {
    return Behaviors.receive(Command.class)
        .onAnyMessage(
            cmd -> {
              refuse(cmd, reason);
              return Behaviors.same();
            })
        .build();
  }

  private static void refuse(Command cmd, String reason) {
    if (cmd instanceof Lookup m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof MapPage m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof UnmapPage m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof GuestTlbie m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof FlushVcpu m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof NotifierInvalidate m) {
      m.replyTo().tell(new Rejected(m.notifierSeq(), reason));
    } else if (cmd instanceof CheckpointState m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof RestoreState m) {
      m.replyTo().tell(new Rejected(m.requestId(), reason));
    } else if (cmd instanceof CheckInvariants m) {
      m.replyTo().tell(new InvariantsReply(List.of(reason), 0, 0, 0, 0, 0));
    }
  }
}
