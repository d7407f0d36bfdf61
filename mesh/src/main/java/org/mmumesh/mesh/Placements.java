package org.mmumesh.mesh;

import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The entity factories' side of {@link LostEntities} on one node: an entity starting here records
 * its placement in this node's directory (synchronously, so a restart on this node sees it at once)
 * and has the node's {@link DirectoryActor} send it to every peer; an entity whose state lived on
 * another node is refused (the factory throws, and the entity type's {@code rejectingAll} answers
 * every command with the reason).
 */
final class Placements {
  private final ActorSystem<?> system;
  private final MeshDirectory directory;
  private final ActorRef<DirectoryActor.Command> directoryActor;

  Placements(
      ActorSystem<?> system,
      MeshDirectory directory,
      ActorRef<DirectoryActor.Command> directoryActor) {
    this.system = Objects.requireNonNull(system, "system");
    this.directory = Objects.requireNonNull(directory, "directory");
    this.directoryActor = Objects.requireNonNull(directoryActor, "directoryActor");
  }

  /**
   * Entity {@code type}/{@code id} starts here with {@code value}: records its placement and
   * answers {@code value}, or throws an {@link IllegalArgumentException} with the reason when the
   * entity's state lived on another node (a restart there without its state; the entity's factory
   * then builds a shell that refuses every request with it).
   */
  <T> T refuseRestart(String type, String id, T value) {
    Optional<String> no = check(type, id);
    if (no.isPresent()) {
      throw new IllegalArgumentException(no.get());
    }
    return value;
  }

  private Optional<String> check(String type, String id) {
    String self = Cluster.get(system).selfMember().address().toString();
    boolean fresh = directory.lost().placement(type, id).isEmpty();
    Optional<String> no = directory.lost().refusal(type, id, self);
    if (fresh) {
      directory
          .lost()
          .placement(type, id)
          .ifPresent(p -> directoryActor.tell(new DirectoryActor.Placed(p)));
    }
    return no;
  }
}
