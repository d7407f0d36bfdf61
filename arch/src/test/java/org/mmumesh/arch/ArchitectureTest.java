package org.mmumesh.arch;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The architecture rules of {@link ArchitectureRules} on the main classes of every module (test
 * classes are not imported). A failure names each offending class and dependency. The core rule is
 * checked by {@link CoresImportNoPekkoTest}.
 */
@AnalyzeClasses(packages = "org.mmumesh", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  @ArchTest static final ArchRule engineImportsNoActor = ArchitectureRules.ENGINE_IMPORTS_NO_ACTOR;

  @ArchTest
  static final ArchRule guestMmuImportsNoHostMmu = ArchitectureRules.GUEST_MMU_IMPORTS_NO_HOST_MMU;

  @ArchTest
  static final ArchRule pageFramesImportNoHostMmu =
      ArchitectureRules.PAGE_FRAMES_IMPORT_NO_HOST_MMU;

  @ArchTest
  static final ArchRule nothingBelowTheGatewayImportsIt =
      ArchitectureRules.NOTHING_BELOW_THE_GATEWAY_IMPORTS_IT;

  @ArchTest static final ArchRule noPackageCycles = ArchitectureRules.NO_PACKAGE_CYCLES;
}
