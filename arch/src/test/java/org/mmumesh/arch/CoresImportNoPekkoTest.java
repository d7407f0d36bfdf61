package org.mmumesh.arch;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * {@link ArchitectureRules#CORES_IMPORT_NO_PEKKO} on the main classes of every module: it holds
 * once every actor shell lives in an {@code .actor} package (issue 11 item 9). Until then it names
 * the shells still beside their cores.
 */
@AnalyzeClasses(packages = "org.mmumesh", importOptions = ImportOption.DoNotIncludeTests.class)
class CoresImportNoPekkoTest {
  @ArchTest static final ArchRule coresImportNoPekko = ArchitectureRules.CORES_IMPORT_NO_PEKKO;
}
