package org.mmumesh.arch;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.Test;
import org.mmumesh.archfixture.cycle.a.A;
import org.mmumesh.archfixture.cycle.b.B;
import org.mmumesh.archfixture.cycle.c.C;
import org.mmumesh.cli.archfixture.CliUsingGateway;
import org.mmumesh.engine.archfixture.EngineUsingActorPackage;
import org.mmumesh.engine.archfixture.EngineUsingCore;
import org.mmumesh.engine.archfixture.EngineUsingShellBesideItsCore;
import org.mmumesh.gateway.archfixture.GatewayThing;
import org.mmumesh.guestmmu.archfixture.GuestUsingHost;
import org.mmumesh.hostmmu.actor.archfixture.ShellUsingPekko;
import org.mmumesh.hostmmu.archfixture.CoreUsingPekko;
import org.mmumesh.hostmmu.archfixture.HostThing;
import org.mmumesh.mesh.archfixture.MeshUsingGateway;
import org.mmumesh.pageframe.archfixture.FramesUsingHost;
import org.mmumesh.shell.archfixture.KitUsingPekko;
import org.mmumesh.vcpu.archfixture.PureCore;
import org.mmumesh.vcpu.archfixture.ShellBesideItsCore;

/**
 * Each rule of {@link ArchitectureRules} can fail: run on a few fixture classes that break it, it
 * reports exactly the offending class; run on fixtures that keep it, it reports nothing (so a rule
 * that always failed would be caught too). The fixtures live in this module's test sources, which
 * {@link ArchitectureTest} does not import.
 */
class ArchitectureRulesCanFailTest {

  private static JavaClasses classes(Class<?>... classes) {
    return new ClassFileImporter().importClasses(classes);
  }

  private static String violations(ArchRule rule, JavaClasses classes) {
    EvaluationResult result = rule.evaluate(classes);
    return String.join("\n", result.getFailureReport().getDetails());
  }

  @Test
  void aCoreUsingPekkoIsReportedAndShellsInActorPackagesAreNot() {
    JavaClasses fixtures = classes(CoreUsingPekko.class, ShellUsingPekko.class);

    String report = violations(ArchitectureRules.CORES_IMPORT_NO_PEKKO, fixtures);

    assertThat(report).contains(CoreUsingPekko.class.getName()).contains("org.apache.pekko");
    assertThat(report).doesNotContain(ShellUsingPekko.class.getName());
    assertThat(
            ArchitectureRules.CORES_IMPORT_NO_PEKKO
                .evaluate(classes(ShellUsingPekko.class, KitUsingPekko.class, PureCore.class))
                .hasViolation())
        .isFalse();
  }

  @Test
  void aShellBesideItsCoreStillCountsAsACoreForTheCoreRule() {
    // Today's layout (Vcpu beside PageFaultHandler): the rule names the shell, so the restructure
    // must move it into an .actor package to pass.
    String report =
        violations(ArchitectureRules.CORES_IMPORT_NO_PEKKO, classes(ShellBesideItsCore.class));

    assertThat(report).contains(ShellBesideItsCore.class.getName());
  }

  @Test
  void theEngineNamingAnActorTypeIsReportedWhereverTheShellLives() {
    JavaClasses fixtures =
        classes(
            EngineUsingActorPackage.class,
            EngineUsingShellBesideItsCore.class,
            EngineUsingCore.class,
            ShellUsingPekko.class,
            ShellUsingPekko.Command.class,
            ShellBesideItsCore.class,
            ShellBesideItsCore.AccessOp.class,
            PureCore.class,
            PureCore.Step.class);

    String report = violations(ArchitectureRules.ENGINE_IMPORTS_NO_ACTOR, fixtures);

    assertThat(report)
        .contains(EngineUsingActorPackage.class.getName())
        .contains(EngineUsingShellBesideItsCore.class.getName())
        .doesNotContain(EngineUsingCore.class.getName());
  }

  @Test
  void theEngineDrivingOnlyCoresPasses() {
    JavaClasses fixtures = classes(EngineUsingCore.class, PureCore.class, PureCore.Step.class);

    assertThat(ArchitectureRules.ENGINE_IMPORTS_NO_ACTOR.evaluate(fixtures).hasViolation())
        .isFalse();
  }

  @Test
  void theGuestMmuNamingTheHostMmuIsReported() {
    JavaClasses fixtures = classes(GuestUsingHost.class, HostThing.class, FramesUsingHost.class);

    String report = violations(ArchitectureRules.GUEST_MMU_IMPORTS_NO_HOST_MMU, fixtures);

    assertThat(report)
        .contains(GuestUsingHost.class.getName())
        .contains(HostThing.class.getName())
        .doesNotContain(FramesUsingHost.class.getName());
  }

  @Test
  void pageFramesNamingTheHostMmuAreReported() {
    JavaClasses fixtures = classes(FramesUsingHost.class, HostThing.class, GuestUsingHost.class);

    String report = violations(ArchitectureRules.PAGE_FRAMES_IMPORT_NO_HOST_MMU, fixtures);

    assertThat(report)
        .contains(FramesUsingHost.class.getName())
        .doesNotContain(GuestUsingHost.class.getName());
  }

  @Test
  void theMeshNamingTheGatewayIsReportedAndTheCliIsNot() {
    JavaClasses fixtures =
        classes(MeshUsingGateway.class, CliUsingGateway.class, GatewayThing.class);

    String report = violations(ArchitectureRules.NOTHING_BELOW_THE_GATEWAY_IMPORTS_IT, fixtures);

    assertThat(report)
        .contains(MeshUsingGateway.class.getName())
        .doesNotContain(CliUsingGateway.class.getName());
  }

  @Test
  void aPackageCycleIsReportedAndAOneWayDependencyIsNot() {
    String report =
        violations(ArchitectureRules.NO_PACKAGE_CYCLES, classes(A.class, B.class, C.class));

    assertThat(report)
        .contains("org.mmumesh.archfixture.cycle.a")
        .contains("org.mmumesh.archfixture.cycle.b");
    assertThat(
            ArchitectureRules.NO_PACKAGE_CYCLES.evaluate(classes(A.class, C.class)).hasViolation())
        .isFalse();
  }
}
