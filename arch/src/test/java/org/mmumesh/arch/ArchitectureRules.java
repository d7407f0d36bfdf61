package org.mmumesh.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The project's architecture rules (docs/design.md, "Rules"; architecture.md section 3), written
 * against the package convention the restructure of issue 11 lands: pure cores in {@code
 * org.mmumesh.<module>}, actor shells in {@code org.mmumesh.<module>.actor}. The modules that are
 * actor code by design ({@link #ACTOR_PACKAGES}) are exempt from the core rule. {@link
 * ArchitectureTest} checks every rule on the main classes; {@link ArchitectureRulesCanFailTest}
 * shows each rule reporting a fixture that breaks it.
 */
final class ArchitectureRules {
  private ArchitectureRules() {}

  /**
   * Where Pekko is allowed: actor sub-packages and the modules that are actor code by design (the
   * mesh, the shells' shared kit {@code org.mmumesh.shell} of issue 11, the gateway, the CLI and
   * the benchmarks).
   */
  static final String[] ACTOR_PACKAGES = {
    "..actor..",
    "org.mmumesh.mesh..",
    "org.mmumesh.shell..",
    "org.mmumesh.gateway..",
    "org.mmumesh.cli..",
    "org.mmumesh.bench.."
  };

  /** A core (any class outside {@link #ACTOR_PACKAGES}) imports no Pekko. */
  static final ArchRule CORES_IMPORT_NO_PEKKO =
      noClasses()
          .that()
          .resideInAPackage("org.mmumesh..")
          .and()
          .resideOutsideOfPackages(ACTOR_PACKAGES)
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.apache.pekko..")
          .as(
              "core classes (outside *.actor packages and the mesh, shell, gateway, cli and"
                  + " bench modules) import no Pekko")
          .because("a core is sans I/O: both engines drive it, and checkpoints serialize it");

  /**
   * An actor shell: a class in an {@code .actor} package, or a class (or the top-level class it is
   * nested in) that itself depends on Pekko, wherever it lives. The second half keeps the engine
   * rule meaningful while shells still share a package with their cores.
   */
  static final DescribedPredicate<JavaClass> ACTOR_SHELL =
      new DescribedPredicate<>("are actor shells (in a *.actor package, or using Pekko)") {
        @Override
        public boolean test(JavaClass c) {
          if (isActorPackage(c.getPackageName())) {
            return true;
          }
          JavaClass top = c;
          while (top.getEnclosingClass().isPresent()) {
            top = top.getEnclosingClass().get();
          }
          return usesPekko(top);
        }
      };

  static boolean isActorPackage(String packageName) {
    return packageName.endsWith(".actor") || packageName.contains(".actor.");
  }

  private static boolean usesPekko(JavaClass c) {
    for (Dependency d : c.getDirectDependenciesFromSelf()) {
      if (d.getTargetClass().getPackageName().startsWith("org.apache.pekko")) {
        return true;
      }
    }
    return false;
  }

  /** The sequential engine drives cores only: it names no actor shell. */
  static final ArchRule ENGINE_IMPORTS_NO_ACTOR =
      noClasses()
          .that()
          .resideInAPackage("org.mmumesh.engine..")
          .should()
          .dependOnClassesThat(ACTOR_SHELL)
          .as("the sequential engine imports no actor package (nor any class using Pekko)")
          .because("the engine is the oracle: it must run the cores without the mesh");

  /** The guest MMU (spec 2-4) knows nothing of the host side (spec 5). */
  static final ArchRule GUEST_MMU_IMPORTS_NO_HOST_MMU =
      noClasses()
          .that()
          .resideInAPackage("org.mmumesh.guestmmu..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.mmumesh.hostmmu..")
          .as("the guest MMU imports nothing of the host MMU");

  /**
   * Page frames (spec 5.1) tell the host MMU of invalidations through the listener types they
   * define (MMU notifiers, spec 5.7), never by naming it.
   */
  static final ArchRule PAGE_FRAMES_IMPORT_NO_HOST_MMU =
      noClasses()
          .that()
          .resideInAPackage("org.mmumesh.pageframe..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.mmumesh.hostmmu..")
          .as("page frames import nothing of the host MMU");

  /** Only the gateway's callers (the CLI, the benchmarks) may name the gateway. */
  static final ArchRule NOTHING_BELOW_THE_GATEWAY_IMPORTS_IT =
      noClasses()
          .that()
          .resideInAPackage("org.mmumesh..")
          .and()
          .resideOutsideOfPackages(
              "org.mmumesh.gateway..", "org.mmumesh.cli..", "org.mmumesh.bench..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("org.mmumesh.gateway..")
          .as("nothing below the gateway imports org.mmumesh.gateway");

  /**
   * No cycle between packages: each package is its own slice, so a core package that reaches back
   * into its own {@code .actor} sub-package is a cycle too.
   */
  static final ArchRule NO_PACKAGE_CYCLES =
      slices()
          .matching("org.mmumesh.(**)")
          .namingSlices("package org.mmumesh.$1")
          .should()
          .beFreeOfCycles()
          .as("packages under org.mmumesh form no cycle");
}
